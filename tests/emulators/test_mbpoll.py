"""The I/O module and barrier emulators answer an independent Modbus master: Debian's
mbpoll (libmodbus), with the exact commands of docs/devices.md. `make test` installs it."""

from __future__ import annotations

import asyncio
import re
import shutil
from pathlib import Path

import pytest

from devices.barrier.codec import BarrierState
from emulators.barrier.interface import BarrierBusInterface
from emulators.barrier.model import BarrierModel
from emulators.io.interface import IoInterface
from emulators.io.model import IoModel
from emulators.modbus_tcp import ModbusTcpServer
from emulators.rtu_pty import RtuPtyBus

MBPOLL = shutil.which("mbpoll")


async def mbpoll(*args: str) -> tuple[int, str]:
    if MBPOLL is None:
        pytest.fail("mbpoll is missing: `make test` installs it (apt-get install mbpoll)")
    process = await asyncio.create_subprocess_exec(
        MBPOLL, *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    async with asyncio.timeout(20):
        out, _ = await process.communicate()
    return process.returncode or 0, out.decode(errors="replace")


def values(output: str) -> dict[int, int]:
    return {int(a): int(v) for a, v in re.findall(r"^\[(\d+)\]:\s+(-?\d+)", output, re.M)}


async def test_io_module_over_tcp_with_mbpoll() -> None:
    model = IoModel(safe_pattern=0b101)
    model.set_input(2, True)
    model.set_input(4, True)
    async with ModbusTcpServer(IoInterface(model), models=[model]) as server:
        port = str(server.port)
        code, out = await mbpoll(
            "-0", "-1", "-p", port, "-t", "1", "-r", "0", "-c", "8", "127.0.0.1"
        )
        assert code == 0, out
        assert values(out) == {0: 0, 1: 0, 2: 1, 3: 0, 4: 1, 5: 0, 6: 0, 7: 0}
        code, out = await mbpoll(
            "-0", "-1", "-p", port, "-t", "0", "-r", "0", "127.0.0.1", "0", "1", "1", "0"
        )
        assert code == 0, out
        assert model.outputs == 0b0110  # FC15 wrote coils 0..3
        code, out = await mbpoll(
            "-0", "-1", "-p", port, "-t", "4", "-r", "4096", "127.0.0.1", "500", "5"
        )
        assert code == 0, out
        assert (model.watchdog_ms, model.safe_pattern) == (500, 5)
        code, out = await mbpoll(
            "-0", "-1", "-p", port, "-t", "3", "-r", "0", "-c", "2", "127.0.0.1"
        )
        assert values(out) == {0: 0x1214, 1: 0x0100}


async def test_barriers_over_an_rtu_pty_with_mbpoll(tmp_path: Path) -> None:
    entry, exit_ = BarrierModel(), BarrierModel(position=100)
    path = tmp_path / "rs485"
    rtu = ("-m", "rtu", "-b", "38400", "-P", "none", "-0", "-1")
    async with RtuPtyBus(path, BarrierBusInterface({1: entry, 2: exit_}), models=[entry, exit_]):
        code, out = await mbpoll(*rtu, "-a", "2", "-t", "4", "-r", "100", "-c", "7", str(path))
        assert code == 0, out
        assert values(out) == {100: 16, 101: 100, 102: 0, 103: 0, 104: 0, 105: 0, 106: 0}
        code, out = await mbpoll(*rtu, "-a", "1", "-t", "0", "-r", "1", str(path), "1")
        assert code == 0, out
        assert entry.state == BarrierState.OPENING
        code, out = await mbpoll(*rtu, "-a", "1", "-t", "0", "-r", "2", str(path), "1")
        assert code != 0
        assert "Illegal data address" in out
