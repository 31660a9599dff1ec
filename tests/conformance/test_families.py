"""The same checks for each device family over every transport (and real devices when
GATEBRIDGE_HIL_* names them; see conftest.py)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from devices.barrier.codec import BarrierState
from devices.barrier.driver import BarrierDriver
from devices.io.driver import IoDriver
from devices.rfid.driver import RfidDriver
from devices.scale.driver import ScaleDriver
from emulators.barrier.model import BarrierModel
from emulators.base import EmulatedClock, run_models
from emulators.io.model import IoModel
from emulators.rfid.model import RfidModel
from emulators.scale.model import ScaleModel
from tests.conformance.conftest import (
    barrier_endpoint,
    hil,
    io_endpoint,
    serial_endpoint,
)

EPC = bytes.fromhex("2000708C2B380B2D00000000")


@pytest.mark.parametrize("transport", ["memory", "tcp", *hil("io")])
async def test_io_module(transport: str) -> None:
    async with io_endpoint(transport) as endpoint:
        assert endpoint.modbus is not None
        io = IoDriver(endpoint.modbus)
        assert len(await io.read_inputs()) == 16
        assert len(await io.read_outputs()) == 16
        await io.arm_watchdog(0, 0b101)  # watchdog off on a bench device: nothing trips
        assert not await io.watchdog_tripped()
        if isinstance(endpoint.model, IoModel):
            endpoint.model.set_input(3, True)
            assert (await io.read_inputs())[3]
            await io.write_outputs([False, True] + [False] * 14)
            assert endpoint.model.outputs == 0b10
            assert (await io.read_outputs())[1]


@pytest.mark.parametrize("transport", ["memory", "pty", *hil("barrier")])
async def test_barrier(transport: str, tmp: Path) -> None:
    async with barrier_endpoint(transport, tmp) as endpoint:
        assert endpoint.modbus is not None
        barrier = BarrierDriver(endpoint.modbus, "barrier", timeout_s=1.0)
        status = await barrier.read_status()
        assert status.state in BarrierState
        if isinstance(endpoint.model, BarrierModel):
            await barrier.set_auto_close(False)
            assert not (await barrier.read_status()).auto_close
            await barrier.open()
            endpoint.model.advance(0.5)
            assert (await barrier.read_status()).fully_open
            endpoint.model.set_obstacle(True)
            await barrier.close()  # refused by the board on presence
            assert (await barrier.read_status()).state == BarrierState.OPEN


@pytest.mark.parametrize("transport", ["memory", "pty", *hil("scale")])
async def test_scale(transport: str, tmp: Path) -> None:
    async with serial_endpoint("scale", transport, tmp) as endpoint:
        assert endpoint.stream is not None
        scale = ScaleDriver(
            endpoint.stream, "scale", "sma" if endpoint.extra == "sma" else "toledo"
        )
        reading = await scale.read_reading(2.0)
        assert reading.raw
        if isinstance(endpoint.model, ScaleModel):
            endpoint.model.set_load_kg(18000)
            ticker = asyncio.create_task(run_models([endpoint.model], EmulatedClock()))
            try:
                async with asyncio.timeout(5):
                    while (r := await scale.read_reading(1.0)).motion or r.weight_kg != 18000:
                        pass
            finally:
                ticker.cancel()
                await asyncio.gather(ticker, return_exceptions=True)


@pytest.mark.parametrize("transport", ["memory", "pty", *hil("rfid")])
async def test_rfid(transport: str, tmp: Path) -> None:
    async with serial_endpoint("rfid", transport, tmp) as endpoint:
        assert endpoint.stream is not None
        reader = RfidDriver(endpoint.stream, "rfid", address=int(endpoint.extra or 0))
        tags = await reader.inventory()
        assert all(isinstance(t, bytes) for t in tags)
        if isinstance(endpoint.model, RfidModel):
            endpoint.model.set_tag(EPC, 4.0)
            assert await reader.inventory() == (EPC,)


async def test_the_hardware_path_reaches_a_device_named_by_url(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The HIL branch itself, pointed at an emulator as a bench device would be."""
    from emulators.io.interface import IoInterface
    from emulators.modbus_tcp import ModbusTcpServer

    model = IoModel()
    model.set_input(5, True)
    async with ModbusTcpServer(IoInterface(model), models=[model]) as server:
        monkeypatch.setenv("GATEBRIDGE_HIL_IO", f"{server.url}#1")
        async with io_endpoint("hardware") as endpoint:
            assert not endpoint.emulated
            assert endpoint.modbus is not None
            assert (await IoDriver(endpoint.modbus).read_inputs())[5]
