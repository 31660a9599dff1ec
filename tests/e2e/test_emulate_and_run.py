"""Production shape, end to end: `gatectl emulate` serves a lane on a TCP port and ptys,
`gatectl run` drives it as it would hardware, in two processes, in real time with the
emulators' --time-scale. Waits are on conditions with timeouts, never fixed sleeps."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sqlite3
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import yaml

from devices.io.driver import IoDriver
from devices.transport.modbus import ModbusLink
from devices.transport.url import ModbusTcpUrl

ROOT = Path(__file__).resolve().parents[2]
GATECTL = [sys.executable, "-m", "controller.cli.main"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def lane_config(tmp: Path, port: int) -> Path:
    document = yaml.safe_load((ROOT / "deploy/examples/emulated-lane.yaml").read_text())
    document.update(
        journal=str(tmp / "journal.db"),
        socket=str(tmp / "gatectl.sock"),
        audit_log=str(tmp / "audit.log"),
    )
    document["clearance"]["manifest"] = str(ROOT / "deploy/examples/manifest.yaml")
    lane = document["lanes"][0]
    lane["io"]["url"] = f"modbus-tcp://127.0.0.1:{port}"
    for device in ("entry_barrier", "exit_barrier"):
        lane[device]["url"] = f"modbus-rtu://{tmp}/rs485?baud=38400"
    lane["scale"]["url"] = f"serial://{tmp}/scale?baud=9600"
    lane["rfid"]["url"] = f"serial://{tmp}/rfid?baud=57600"
    path = tmp / "lane.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


@asynccontextmanager
async def process(*args: str, ready: str) -> AsyncIterator[asyncio.subprocess.Process]:
    proc = await asyncio.create_subprocess_exec(
        *GATECTL,
        *args,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.stdout is not None
    drain: asyncio.Task[None] | None = None
    try:
        async with asyncio.timeout(60):  # generous: a loaded 2-core machine starts slowly
            while ready not in (line := (await proc.stdout.readline()).decode()):
                assert line, "the process ended before it was ready"
        # read on, as journald or a terminal would: a full pipe would stall its writer
        drain = asyncio.create_task(_drain(proc.stdout))
        yield proc
    finally:
        try:
            await _stop(proc)
        finally:
            if drain is not None:
                drain.cancel()


async def _stop(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None:
        proc.send_signal(signal.SIGTERM)
        try:
            async with asyncio.timeout(10):
                await proc.wait()
        except TimeoutError:
            proc.kill()  # never leave a process behind, even when it failed to stop
            await proc.wait()
            raise


async def _drain(stream: asyncio.StreamReader) -> None:
    while await stream.read(1 << 16):
        pass


async def commits(sock: Path, count: int) -> list[dict[str, object]]:
    """Follow the controller's lane events on its maintenance socket until `count`
    transactions were committed (the controller is root here: an officer)."""
    reader, writer = await asyncio.open_unix_connection(str(sock))
    writer.write(b'{"op": "events", "follow": true, "last": 0}\n')
    await writer.drain()
    seen: list[dict[str, object]] = []
    while len(seen) < count:
        line = await reader.readline()
        assert line, "the controller closed its socket"
        data = json.loads(line)["data"]
        if data.get("type") == "transaction_committed":
            seen.append(data)
    writer.close()
    return seen


async def gatectl(*args: str) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        *GATECTL, *args, cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    async with asyncio.timeout(20):
        out, _ = await proc.communicate()
    return proc.returncode or 0, out.decode()


async def operate_with_gatectl(sock: Path) -> None:
    """A technician's session against the running controller, through its socket."""
    code, out = await gatectl("status", "--json", "--socket", str(sock))
    assert code == 0, out
    assert '"lane": "L01"' in out
    code, out = await gatectl("mode", "L09", "closed", "--socket", str(sock))
    assert code == 2  # a usage error: not a lane of this gateway
    assert "no lane 'L09'" in out
    code, out = await gatectl("barrier", "L01", "entry", "open", "--socket", str(sock))
    assert code == 1  # only in maintenance mode
    code, out = await gatectl("audit", "--verify", "--socket", str(sock))
    assert code == 0, out
    assert "chain ok" in out


async def test_emulate_and_run_process_trucks_and_stop_red(tmp_path: Path) -> None:
    port = free_port()
    config = lane_config(tmp_path, port)
    control = tmp_path / "emulate.sock"
    async with process(
        "emulate",
        "--config",
        str(config),
        "--time-scale",
        "4",
        "--saturate",
        "1",
        "--control",
        str(control),
        ready="ready",
    ):
        async with process("run", "--config", str(config), ready="running") as controller:
            async with asyncio.timeout(90):
                events = await commits(tmp_path / "gatectl.sock", 3)
            await operate_with_gatectl(tmp_path / "gatectl.sock")
            controller.send_signal(signal.SIGTERM)
            async with asyncio.timeout(10):
                await controller.wait()
        link = ModbusLink.tcp(ModbusTcpUrl("127.0.0.1", port))
        outputs = await IoDriver(link.unit(1)).read_outputs()
        await link.close()
    assert outputs[:4] == (True, False, True, False)  # stopped: both heads red, no green
    with sqlite3.connect(tmp_path / "journal.db") as db:
        kept = {row[0] for row in db.execute("SELECT transaction_id FROM transactions")}
    assert {str(e["transaction_id"]) for e in events} <= kept  # durable before announced
