"""Bus throughput: (a) our Modbus TCP stack vs a bare pymodbus loop against the same
emulator in the same run; (b) RTU transactions/s at 38400 baud with the line model on vs
the computed wire limit (frames, both silences and the emulator's turnaround).

Run: .venv/bin/python -m bench.bus [--seconds S]
Targets (DESIGN section 9): (a) ratio >= 0.9; (b) ratio >= 0.9.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from pathlib import Path

from pymodbus.client import AsyncModbusTcpClient

from bench.common import report
from devices.barrier.driver import BarrierDriver
from devices.io.driver import IoDriver
from devices.transport.modbus import ModbusLink
from devices.transport.url import LineSettings, ModbusRtuUrl, ModbusTcpUrl
from emulators.barrier.interface import BarrierBusInterface
from emulators.barrier.model import BarrierModel
from emulators.io.interface import IoInterface
from emulators.io.model import IoModel
from emulators.modbus_tcp import ModbusTcpServer
from emulators.rtu_pty import LineModel, RtuPtyBus

READ_STATUS_REQUEST_CHARS = 8  # unit, FC3, address, count, CRC
READ_STATUS_REPLY_CHARS = 5 + 2 * 7  # unit, FC3, byte count, 7 registers, CRC


async def _rate(loop_body: object, seconds: float) -> float:
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    count, start = 0, loop.time()
    while loop.time() < end:
        await loop_body()  # type: ignore[operator]
        count += 1
    return count / (loop.time() - start)


async def tcp_rates(seconds: float) -> tuple[float, float]:
    model = IoModel()
    async with ModbusTcpServer(IoInterface(model), models=[model]) as server:
        bare = AsyncModbusTcpClient("127.0.0.1", port=server.port, timeout=1, retries=0)
        await bare.connect()

        async def bare_read() -> None:
            response = await bare.read_discrete_inputs(0, count=16, device_id=1)
            assert not response.isError()

        link = ModbusLink.tcp(ModbusTcpUrl("127.0.0.1", server.port), timeout_s=1.0)
        driver = IoDriver(link.unit(1))

        async def ours() -> None:
            await driver.read_inputs()

        # ABBA rounds, so warm-up and a noisy neighbour hurt both alike
        bare_rates: list[float] = []
        our_rates: list[float] = []
        for order in ((bare_read, ours), (ours, bare_read)) * 2:
            for body in order:
                rate = await _rate(body, seconds / 8)
                (bare_rates if body is bare_read else our_rates).append(rate)
        bare.close()
        await link.close()
    return sum(bare_rates) / len(bare_rates), sum(our_rates) / len(our_rates)


async def rtu_rate(seconds: float) -> tuple[float, float]:
    line = LineModel(baudrate=38400)
    barrier = BarrierModel()
    path = Path(tempfile.mkdtemp()) / "rs485"
    async with RtuPtyBus(path, BarrierBusInterface({1: barrier}), line=line, models=[barrier]):
        link = ModbusLink.rtu(ModbusRtuUrl(str(path), LineSettings(38400)), timeout_s=1.0)
        driver = BarrierDriver(link.unit(1))

        async def poll() -> None:
            await driver.read_status()

        achieved = await _rate(poll, seconds)
        await link.close()
    limit = 1 / line.transaction_s(READ_STATUS_REQUEST_CHARS, READ_STATUS_REPLY_CHARS)
    return achieved, limit


async def run(seconds: float) -> None:
    bare, ours = await tcp_rates(seconds)
    achieved, limit = await rtu_rate(seconds)
    rows: list[tuple[str, object, str]] = [
        ("tcp_bare_pymodbus_tps", bare, ""),
        ("tcp_driver_stack_tps", ours, ""),
        ("tcp_ratio", ours / bare, ">= 0.9"),
        ("rtu_achieved_tps", achieved, ""),
        ("rtu_wire_limit_tps", limit, ""),
        ("rtu_ratio", achieved / limit, ">= 0.9"),
    ]
    report("bus", rows, {"seconds": seconds, "rtu_baud": 38400, "rtu_turnaround_ms": 2})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=8.0)
    asyncio.run(run(parser.parse_args().seconds))


if __name__ == "__main__":
    main()
