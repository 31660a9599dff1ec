"""What `gatectl run` logs, from the outside (issue 17 item 13, issue 13 part 6): a device
missing at start is one line, not pymodbus's retries; a lost device is one line each;
every line on a pipe is JSON; under systemd the records go to journald's socket with
LANE/DEVICE/EVENT fields. Real processes, real sockets; waits on conditions, with timeouts.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import signal
import socket
from collections.abc import Callable
from pathlib import Path

import yaml

from tests.controller.runtime.test_logs import parse_journal
from tests.e2e.test_emulate_and_run import GATECTL, ROOT, free_port, lane_config, process

Line = dict[str, object]


async def read_until(
    proc: asyncio.subprocess.Process, seen: list[Line], done: Callable[[Line], bool]
) -> None:
    """Parse the controller's output line by line (each must be JSON) until `done`."""
    assert proc.stdout is not None
    while True:
        raw = await proc.stdout.readline()
        assert raw, f"the controller ended; it said {seen}"
        line = json.loads(raw)  # a bare library line would fail here
        seen.append(line)
        if done(line):
            return


def boot_fault(line: Line) -> bool:
    fields = line["fields"]
    return line["event"] == "alarm" and isinstance(fields, dict) and fields["code"] == "lane_fault"


def device_events(seen: list[Line]) -> list[tuple[object, object]]:
    return [(x["device"], x["event"]) for x in seen if x["device"] is not None]


def with_io_at(config: Path, port: int) -> Path:
    document = yaml.safe_load(config.read_text())
    document["lanes"][0]["io"]["url"] = f"modbus-tcp://127.0.0.1:{port}"
    moved = config.with_name("io-missing.yaml")
    moved.write_text(yaml.safe_dump(document))
    return moved


async def test_a_missing_device_is_one_line_and_a_lost_one_too(tmp_path: Path) -> None:
    config = lane_config(tmp_path, free_port())
    missing_io = with_io_at(config, free_port())  # nobody serves this I/O module
    seen: list[Line] = []
    others = {"entry_barrier", "exit_barrier", "scale", "rfid"}
    async with process("emulate", "--config", str(config), ready="ready") as emulator:
        controller = await asyncio.create_subprocess_exec(
            *GATECTL, "run", "--config", str(missing_io), cwd=ROOT,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )  # fmt: skip
        try:
            async with asyncio.timeout(40):
                # the boot check faults the lane 5 s on: ~100 connection attempts to the I/O
                await read_until(controller, seen, boot_fault)
            emulator.send_signal(signal.SIGTERM)
            lost: set[object] = set()
            async with asyncio.timeout(20):
                while lost != others:
                    await read_until(controller, seen, lambda x: x["event"] == "device_lost")
                    lost.add(seen[-1]["device"])
        finally:
            controller.send_signal(signal.SIGTERM)
            async with asyncio.timeout(15):
                rest, _ = await controller.communicate()
    plain = [raw for raw in rest.splitlines() if not raw.startswith(b"{")]
    # a clean stop overdue dumps its threads and pending tasks as text: show all of it
    assert not plain, b"\n".join(plain).decode(errors="replace")
    seen += [json.loads(raw) for raw in rest.splitlines()]
    events = device_events(seen)
    assert events.count(("io", "device_unreachable")) == 1
    assert [e for e in events if e[0] == "io"] == [("io", "device_unreachable")]
    for device in others:
        told = [event for name, event in events if name == device]
        # connected first, lost last; a loaded machine may add a lost/recovered pair in
        # between, but never the same line twice in a row: once per change
        assert (told[0], told[-1]) == ("device_connected", "device_lost"), told
        assert all(a != b for a, b in itertools.pairwise(told)), told
    assert not [x for x in seen if str(x["logger"]).startswith("pymodbus")]
    unreachable = next(x for x in seen if x["event"] == "device_unreachable")
    assert unreachable["lane"] == "L01"
    assert unreachable["fields"] == {
        "endpoint": yaml.safe_load(missing_io.read_text())["lanes"][0]["io"]["url"],
        "error": unreachable["fields"]["error"],  # type: ignore[index]
    }
    assert str(unreachable["ts"]).endswith("Z")


async def test_under_systemd_the_records_go_to_journald(tmp_path: Path) -> None:
    """$JOURNAL_STREAM names stdout's device:inode, as systemd sets it for a service whose
    output goes to the journal: then every record is a datagram of journal fields."""
    config = lane_config(tmp_path, free_port())  # no devices at all: five unreachable
    journal = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    journal.bind(str(tmp_path / "journal.sock"))
    journal.setblocking(False)
    loop = asyncio.get_running_loop()
    with (tmp_path / "stdout").open("wb") as stdout:
        st = os.fstat(stdout.fileno())
        env = {
            **os.environ,
            "JOURNAL_STREAM": f"{st.st_dev}:{st.st_ino}",
            "GATEBRIDGE_JOURNAL_SOCKET": str(tmp_path / "journal.sock"),
        }
        controller = await asyncio.create_subprocess_exec(
            *GATECTL, "run", "--config", str(config), cwd=ROOT, stdout=stdout, env=env
        )
    entries: list[dict[str, str]] = []
    try:
        async with asyncio.timeout(40):
            while sum(e.get("EVENT") == "device_unreachable" for e in entries) < 5:
                entries.append(parse_journal(await loop.sock_recv(journal, 1 << 16)))
    finally:
        controller.send_signal(signal.SIGTERM)
        async with asyncio.timeout(15):
            await controller.wait()
        journal.close()
    started = next(e for e in entries if e.get("EVENT") == "gateway_started")
    assert started["MESSAGE"].startswith("running 1 lane(s)")
    assert started["SYSLOG_IDENTIFIER"] == "gatebridge"
    io = next(e for e in entries if e.get("DEVICE") == "io")
    assert (io["LANE"], io["EVENT"], io["PRIORITY"]) == ("L01", "device_unreachable", "4")
    assert (tmp_path / "stdout").read_bytes() == b""  # nothing bare beside the journal
