"""`gatectl diag` through a running controller (issue 13 part 4): `gatectl emulate` serves
the lane's devices, `gatectl run` owns them, and diag (run here through typer's runner, as
root: an officer) asks the controller's real socket. Outside maintenance it is refused;
in maintenance a read answers the device's registers (checked against the emulator's own
model over its control socket), a command coil or a lamp coil becomes the operator's
command (a close onto a vehicle in the arm's loop refused naming S1), any other write is
refused with what may be written; exit codes 0/1/2/3/4."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from controller.cli.client import request
from tests.controller.cli.diag_lane import Lane, gatectl, serve_controller, serve_lane

DEADLINE_S = 10.0
ENTRY_ARM_LOOP, IO_POLL_S = 1, 0.05  # the example config's wiring and I/O poll period


@pytest.fixture(scope="module")
def lane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lane]:
    yield from serve_lane(tmp_path_factory.mktemp("diag-through"), barrier_travel_s=0.3)


@pytest.fixture(scope="module")
def controller(lane: Lane) -> Iterator[Path]:
    serving = serve_controller(lane)
    sock = next(serving)
    try:
        until(lambda: lane_state(sock) == "idle")
        yield sock
    finally:
        serving.close()


@pytest.fixture
def maintenance(lane: Lane, controller: Path) -> Iterator[Lane]:
    assert gatectl("mode", "L01", "maintenance", "-c", str(lane.config)).code == 0
    try:
        yield lane
    finally:
        gatectl("barrier", "L01", "entry", "close", "-c", str(lane.config))
        until(lambda: status(controller)["barriers"] == {"entry": "closed", "exit": "closed"})
        assert gatectl("mode", "L01", "auto", "-c", str(lane.config)).code == 0


def until(condition: Callable[[], bool]) -> None:
    """Poll another process's state until `condition` holds (cross-process: real time)."""
    deadline = time.monotonic() + DEADLINE_S
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def status(sock: Path) -> dict[str, Any]:
    data: Any = request(sock, {"op": "status"})["data"]
    return dict(data["lanes"][0])


def lane_state(sock: Path) -> object:
    return status(sock).get("state")


def open_and_fresh(lane: dict[str, Any]) -> bool:
    """The entry arm open, every device's data fresh, the lane in maintenance (a loaded
    machine can let a budget run out for a moment: the green would rightly be refused)."""
    healthy = all(device["healthy"] for device in lane["devices"].values())
    return healthy and lane["state"] == "maintenance" and lane["barriers"]["entry"] == "open"


def emulated(lane: Lane) -> dict[str, Any]:
    """The emulator's own model of the lane, from its control socket."""
    return dict(control(lane, {"op": "status"})["lanes"]["L01"])


def control(lane: Lane, command: dict[str, object]) -> dict[str, Any]:
    with socket.socket(socket.AF_UNIX) as channel:
        channel.connect(str(lane.tmp / "emulate.sock"))
        channel.sendall(json.dumps(command).encode() + b"\n")
        answer: dict[str, Any] = json.loads(channel.makefile("rb").readline())
    assert answer["ok"], answer
    return answer


def loop_time(controller: Path) -> float:
    """The controller's loop clock, as its status gives it."""
    data: Any = request(controller, {"op": "status"})["data"]
    return float(data["monotonic_s"])


def arm_loop_seen(lane: Lane, controller: Path, on: bool) -> float:
    """Wait until the controller has polled the entry arm loop in state `on` (a diag read
    shows it, then the lane's own I/O poll has run three periods past that); the loop
    time it was seen at."""
    read = ("read", lane.tcp, "-t", "discrete", "-a", str(ENTRY_ARM_LOOP), "--json")
    until(lambda: json.loads(diag(lane, *read)[1])["values"] == [int(on)])
    seen = loop_time(controller)
    until(lambda: status(controller)["devices"]["io"]["last_ok"] > seen + 3 * IO_POLL_S)
    return seen


def diag(lane: Lane, verb: str, url: str, *args: str) -> tuple[int, str, str]:
    ran = gatectl("diag", "modbus", verb, url, *args, "--config", str(lane.config))
    return ran.code, ran.stdout, ran.stderr


def test_diag_is_refused_while_the_lane_is_not_in_maintenance(lane: Lane, controller: Path) -> None:
    code, out, err = diag(lane, "read", lane.tcp, "-t", "coils", "-n", "4")
    assert (code, out) == (1, "")
    assert err.startswith(f"error: refused: endpoint tcp:127.0.0.1:{lane.port} owned by ")
    assert err.endswith("put lane L01 in maintenance and diag goes through the controller, "
                        "or stop the controller\n")  # fmt: skip


def test_a_read_in_maintenance_answers_the_devices_registers(maintenance: Lane) -> None:
    code, out, err = diag(maintenance, "read", maintenance.rtu, "-u", "2", "-t", "holding",
                          "-a", "100", "-n", "7", "--json")  # fmt: skip
    assert code == 0, err
    answer = json.loads(out)
    model = emulated(maintenance)["barriers"]["exit"]
    state, position, _flags, _error, low, high, auto = answer["values"]
    assert (state, position, model["state"]) == (17, 0, "closed")
    assert low | high << 16 == model["strokes"]
    assert auto == int(model["auto_close"])
    assert answer["through"] == {"lane": "L01", "device": "exit_barrier"}
    assert answer["frames"] == {"sent": 1, "received": 1, "errors": 0}
    code, out, _ = diag(maintenance, "read", maintenance.tcp, "-t", "coils", "-n", "16")
    outputs = emulated(maintenance)["io"]["outputs"]
    assert code == 0
    assert out.splitlines()[0] == (
        f"-- modbus-tcp://127.0.0.1:{maintenance.port} unit 1 coils 0..15 "
        "(through the controller, lane L01 in maintenance)"
    )
    shown = [int(row.split()[1]) for row in out.splitlines()[2:18]]
    assert shown == [outputs >> bit & 1 for bit in range(16)]


def test_command_and_lamp_coils_become_commands_other_writes_are_refused(
    maintenance: Lane, controller: Path
) -> None:
    code, out, err = diag(maintenance, "write", maintenance.rtu, "-u", "1", "-t", "coils",
                          "-a", "1", "1")  # fmt: skip
    assert code == 0, err
    assert "barrier_open entry accepted (through the controller" in out
    until(lambda: open_and_fresh(status(controller)))  # S2's conditions for a manual green
    code, out, err = diag(maintenance, "write", maintenance.tcp, "-t", "coils", "-a", "1", "1")
    assert code == 0, err
    assert "light_green entry accepted" in out
    until(lambda: emulated(maintenance)["io"]["outputs"] & 0b10 != 0)
    code, _, err = diag(maintenance, "write", maintenance.rtu, "-u", "1", "-t", "holding",
                        "-a", "106", "1")  # fmt: skip
    assert code == 1
    assert err.startswith("error: refused: entry_barrier holding 106=1: not written through the "
                          "controller, which judges commands, not registers")  # fmt: skip
    assert emulated(maintenance)["barriers"]["entry"]["auto_close"] is False
    code, out, _ = diag(maintenance, "write", maintenance.tcp, "-t", "coils", "-a", "1", "0")
    assert (code, "light_red entry accepted" in out) == (0, True)
    audit = [json.loads(line) for line in (maintenance.tmp / "audit.log").read_text().splitlines()]
    diag_entries = [(e["action"], e["diag"], e["outcome"][:8]) for e in audit if "diag" in e]
    assert diag_entries[-4:] == [
        ("barrier_open", "entry_barrier coils 1=1", "accepted"),
        ("light_green", "io coils 1=1", "accepted"),
        ("diag_write", "entry_barrier holding 106=1", "refused:"),
        ("light_red", "io coils 1=0", "accepted"),
    ]


def test_exit_codes_through_the_controller(maintenance: Lane, controller: Path) -> None:
    code, _, err = diag(maintenance, "read", maintenance.rtu, "-u", "1", "-t", "holding")
    assert code == 4  # holding 0 is no barrier register: the device's exception reply
    assert err == (f"error: modbus-rtu://{maintenance.tmp}/rs485: FC3: exception response "
                   "(exception code 2)\n")  # fmt: skip
    code, out, _ = diag(maintenance, "read", maintenance.rtu, "-u", "1", "-t", "holding", "--json")
    assert code == 4
    assert json.loads(out)["error"].endswith("FC3: exception response (exception code 2)")
    assert json.loads(out)["through"] == {"lane": "L01", "device": "entry_barrier"}
    code, _, err = diag(maintenance, "read", maintenance.tcp, "-t", "holding", "-n", "200")
    assert (code, err) == (2, "error: --count: 200 is not in 1..125 for holding\n")
    answer = request(controller, {"op": "diag", "lane": "L01", "device": "io", "table": "input",
                                  "address": 65535, "count": 2})  # fmt: skip
    assert (answer["kind"], answer["error"]) == (
        "usage",
        "diag: address: 65535..65536 is outside 0..65535",
    )
    answer = request(controller, {"op": "diag", "lane": "L01", "device": "scale",
                                  "table": "coils", "address": 0})  # fmt: skip
    assert answer["kind"] == "usage"
    assert str(answer["error"]).startswith("diag.device: ")


def test_a_controller_that_hangs_up_is_unreachable(tmp_path: Path, lane: Lane) -> None:
    """Exit 3: the socket answers the status (maintenance), then closes on the diag."""
    document = yaml.safe_load(lane.config.read_text())
    document["socket"] = str(tmp_path / "gatectl.sock")
    config = tmp_path / "lane.yaml"
    config.write_text(yaml.safe_dump(document))
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(tmp_path / "gatectl.sock"))
        server.listen()
        thread = threading.Thread(target=_answer_status_then_hang_up, args=(server,))
        thread.start()
        ran = gatectl("diag", "modbus", "read", lane.tcp, "-t", "coils", "-c", str(config))
        thread.join(5)
    assert ran.code == 3
    assert ran.stderr == "error: the controller closed the connection without an answer\n"


def _answer_status_then_hang_up(server: socket.socket) -> None:
    server.settimeout(5)
    maintenance = {"ok": True, "data": {"lanes": [{"lane": "L01", "state": "maintenance"}]}}
    for _ in range(3):  # the guard's pid probe, the status, the diag request
        peer, _ = server.accept()
        with peer:
            line = peer.makefile("rb").readline()
            if b'"status"' in line:
                peer.sendall(json.dumps(maintenance).encode() + b"\n")
            elif b'"diag"' in line:
                return


def test_a_close_written_through_the_controller_onto_presence_is_refused_naming_s1(
    maintenance: Lane, controller: Path
) -> None:
    """A vehicle stands in the entry arm's loop (the emulated loop stuck on, for 1.5 s):
    coil 3 through the controller is the manual close, and S1 refuses it."""
    code, _, err = diag(maintenance, "write", maintenance.rtu, "-u", "1", "-t", "coils",
                        "-a", "1", "1")  # fmt: skip
    assert code == 0, err  # open first: a close of a closed arm is a no-op, judged by nobody
    until(lambda: status(controller)["barriers"]["entry"] == "open")
    stuck = {"kind": "sensor_stuck_on", "channel": ENTRY_ARM_LOOP, "duration_s": 1.5}
    control(maintenance, {"op": "fault", "lane": "L01", "device": "io", "fault": stuck})
    arm_loop_seen(maintenance, controller, on=True)
    code, out, err = diag(maintenance, "write", maintenance.rtu, "-u", "1", "-t", "coils",
                          "-a", "3", "1")  # fmt: skip
    arm = emulated(maintenance)["barriers"]["entry"]
    clear_at = arm_loop_seen(maintenance, controller, on=False)  # the vehicle gone
    # S1's clear-hold (timing.clear_hold_ms) over, so the fixture can close the arm again
    until(lambda: loop_time(controller) > clear_at + 1.2)
    assert (code, out) == (1, "")
    assert (
        err == "error: refused: interlock veto S1: entry close refused: presence at the entry arm\n"
    )
    assert arm["state"] == "open"  # the arm never started down
