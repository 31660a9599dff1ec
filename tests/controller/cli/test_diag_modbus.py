"""`gatectl diag modbus` against the emulated I/O module (TCP) and barrier bus (RTU on a
pty) served by `gatectl emulate`: tables and JSON, writes read back, the frame
counters, every exit code, and the values cross-checked with mbpoll."""

from __future__ import annotations

import json
import re
import subprocess

from tests.controller.cli.diag_lane import Lane, gatectl

IDENTITY = [0x1214, 0x0100]  # input registers 0..1: model code, firmware (DESIGN 5.1)


def mbpoll(lane: Lane, table: int, address: int, count: int) -> list[int]:
    """mbpoll's reading (-0: 0-based; -t 0 coils, 1 discrete, 3 input, 4 holding)."""
    args = ["mbpoll", "-0", "-1", "-m", "tcp", "-p", str(lane.port), "-a", "1",
            "-t", str(table), "-r", str(address), "-c", str(count), "127.0.0.1"]  # fmt: skip
    out = subprocess.run(args, capture_output=True, text=True, timeout=10, check=True).stdout  # noqa: S603
    return [int(v) for v in re.findall(r"^\[\d+\]:\s+(-?\d+)", out, re.MULTILINE)]


def diag_json(*args: str) -> dict[str, object]:
    ran = gatectl("diag", "modbus", *args, "--json")
    assert ran.code == 0, ran.stderr
    return dict(json.loads(ran.stdout))


def test_reads_the_io_identity_as_a_table_ending_with_the_frame_counters(
    emulated_lane: Lane,
) -> None:
    ran = gatectl("diag", "modbus", "read", emulated_lane.tcp, "--table", "input", "--count", "2")
    assert ran.code == 0, ran.stderr
    rows = ran.stdout.splitlines()
    assert rows[1].split() == ["address", "value", "hex"]
    assert rows[2].split() == ["0", "4628", "0x1214"]
    assert rows[3].split() == ["1", "256", "0x0100"]
    assert rows[-1] == "frames sent 1 / received 1 / errors 0"


def test_every_table_reads_the_same_as_mbpoll(emulated_lane: Lane) -> None:
    for table, code, address, count in (
        ("input", 3, 0, 2),
        ("holding", 4, 0x1000, 3),
        ("coils", 0, 0, 8),
        ("discrete", 1, 0, 8),
    ):
        ours = diag_json(
            "read", emulated_lane.tcp, "-t", table, "-a", str(address), "-n", str(count)
        )
        assert ours["values"] == mbpoll(emulated_lane, code, address, count), table
    assert ours["frames"] == {"sent": 1, "received": 1, "errors": 0}


def test_a_coil_written_by_diag_is_what_mbpoll_reads_back(emulated_lane: Lane) -> None:
    tcp = emulated_lane.tcp
    written = diag_json("write", tcp, "-t", "coils", "-a", "4", "1", "0")
    assert written["written"] == [1, 0]
    assert mbpoll(emulated_lane, 0, 4, 2) == [1, 0]
    diag_json("write", tcp, "-t", "coils", "-a", "4", "0")  # FC5: one coil
    assert mbpoll(emulated_lane, 0, 4, 1) == [0]


def test_a_barrier_register_written_over_rtu_reads_back(emulated_lane: Lane) -> None:
    rtu = emulated_lane.rtu
    assert diag_json("write", rtu, "-u", "2", "-t", "holding", "-a", "106", "1")["written"] == [1]
    status = diag_json("read", rtu, "-u", "2", "-t", "holding", "-a", "100", "-n", "7")
    assert status["values"] == [17, 0, 1 << 4, 0, 0, 0, 1]  # closed; auto-close flag and on
    diag_json("write", rtu, "-u", "2", "-t", "holding", "-a", "106", "0x0")


def test_an_exception_reply_is_a_device_error_counted_as_received_and_error(
    emulated_lane: Lane,
) -> None:
    ran = gatectl("diag", "modbus", "read", emulated_lane.rtu, "-t", "holding", "-a", "0")
    assert ran.code == 4
    assert ran.stderr.strip().endswith("exception response (exception code 2)")
    assert len(ran.stderr.strip().splitlines()) == 1
    assert ran.stdout.strip() == "frames sent 1 / received 1 / errors 1"


def test_a_silent_unit_is_a_device_error_and_the_json_says_so(emulated_lane: Lane) -> None:
    args = ("read", emulated_lane.rtu, "-u", "9", "-t", "holding", "--timeout", "0.1", "--json")
    ran = gatectl("diag", "modbus", *args)
    assert ran.code == 4
    report = json.loads(ran.stdout)
    assert report["frames"] == {"sent": 1, "received": 0, "errors": 1}
    assert "no answer" in report["error"]


def test_scan_finds_the_two_barriers_on_the_bus(emulated_lane: Lane) -> None:
    ran = gatectl("diag", "modbus", "scan", emulated_lane.rtu, "--units", "1-4", "--timeout", "0.1")
    assert ran.code == 0, ran.stderr
    assert "2 of 4 unit id(s) answer: 1, 2" in ran.stdout
    assert ran.stdout.splitlines()[-1] == "frames sent 4 / received 2 / errors 4"
    ran = gatectl(
        "diag", "modbus", "scan", emulated_lane.rtu, "--units", "5,7", "--timeout", "0.05"
    )
    assert ran.code == 4
    assert "0 of 2 unit id(s) answer: none" in ran.stdout


def test_an_endpoint_nobody_serves_is_unreachable(emulated_lane: Lane) -> None:
    missing = f"rtu://{emulated_lane.tmp}/no-such-port"
    for url in ("tcp://127.0.0.1:9", missing):
        ran = gatectl("diag", "modbus", "read", url, "-t", "coils")
        assert ran.code == 3, ran.stdout
        assert ran.stderr.count("\n") == 1
        assert "cannot connect" in ran.stderr


def test_bad_arguments_are_usage_errors_naming_the_argument(emulated_lane: Lane) -> None:
    tcp = emulated_lane.tcp
    cases = {
        ("read", tcp, "-t", "bogus"): "--table: 'bogus'",
        ("read", tcp, "-t", "holding", "-n", "126"): "--count: 126 is not in 1..125",
        ("read", tcp, "-t", "coils", "-a", "65535", "-n", "2"): "--address: 65535..65536",
        ("write", tcp, "-t", "coils", "2"): "VALUES: '2' is outside 0..1",
        ("write", tcp, "-t", "discrete", "1"): "--table: 'discrete'",
        ("write", tcp, "-t", "holding", "ten"): "VALUES: 'ten' is not a number",
        ("read", "http://x", "-t", "coils"): "url: 'http://x'",
        ("scan", tcp, "--units", "0-3"): "--units: '0-3' is outside 1..247",
    }
    for args, message in cases.items():
        ran = gatectl("diag", "modbus", *args)
        assert ran.code == 2, args
        assert ran.stderr.startswith("error: ")
        assert message in ran.stderr, (args, ran.stderr)


def test_scan_json_lists_who_answered_and_how(emulated_lane: Lane) -> None:
    report = diag_json("scan", emulated_lane.rtu, "--units", "1-3", "--timeout", "0.1")
    assert report["scanned"] == [1, 2, 3]
    assert [a["unit"] for a in report["answering"]] == [1, 2]  # type: ignore[attr-defined]
    assert report["frames"] == {"sent": 3, "received": 2, "errors": 3}
