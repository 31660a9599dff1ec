"""Scale and RFID drivers against their emulators, over a pty and over memory: the same
checks on both transports (the conformance idea of trio's check_*_stream helpers)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from controller.errors import DeviceProtocolError, DeviceTimeout
from devices.rfid.driver import RfidDriver
from devices.scale.driver import ScaleDriver
from devices.transport.base import ByteStream, MemoryHub
from devices.transport.serial import SerialStream
from devices.transport.url import LineSettings
from emulators.base import EmulatedClock, run_models
from emulators.faults import FaultBook, FaultKind, FaultSpec
from emulators.rfid.interface import RfidInterface
from emulators.rfid.model import RfidModel
from emulators.scale.interface import ScaleInterface
from emulators.scale.model import ScaleModel
from emulators.serial_port import SerialDevice, SerialMemoryServer, SerialPtyServer

EPC = bytes.fromhex("2000708C2B380B2D00000000")


@asynccontextmanager
async def served(
    transport: str, device: SerialDevice, tmp_path: Path, faults: FaultBook, baud: int
) -> AsyncIterator[ByteStream]:
    clock = EmulatedClock()
    if transport == "pty":
        path = tmp_path / "dev"
        async with SerialPtyServer(path, device, clock, baud=baud, faults=faults):
            stream = await SerialStream.open(str(path), LineSettings(baud))
            try:
                yield stream
            finally:
                await stream.close()
    else:
        hub = MemoryHub()
        async with SerialMemoryServer(hub, "dev", device, clock, faults):
            yield hub.serial["dev"]


TRANSPORTS = ["pty", "memory"]


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_toledo_readings_and_zero(transport: str, tmp_path: Path) -> None:
    model = ScaleModel(noise_kg=0, settle_s=0.2)
    model.set_load_kg(300)
    faults = FaultBook()
    async with served(transport, ScaleInterface(model), tmp_path, faults, 9600) as stream:
        ticker = asyncio.create_task(run_models([model], EmulatedClock()))
        try:
            driver = ScaleDriver(stream, "scale", "toledo")
            await asyncio.sleep(0)
            async with asyncio.timeout(5):
                while (reading := await driver.read_reading(1.0)).motion:
                    pass
            assert reading.weight_kg == 300
            await driver.zero()
            async with asyncio.timeout(5):
                while (await driver.read_reading(1.0)).weight_kg != 0:
                    pass
            faults.inject(FaultSpec(kind=FaultKind.CORRUPT_CHECKSUM), 0.0)
            with pytest.raises(DeviceProtocolError, match="checksum"):
                await driver.read_reading(0.5)
            faults.clear()
            faults.inject(FaultSpec(kind=FaultKind.NO_REPLY), 0.0)
            assert await silent_after_stale_frames(driver)
        finally:
            ticker.cancel()
            await asyncio.gather(ticker, return_exceptions=True)


async def silent_after_stale_frames(driver: ScaleDriver) -> bool:
    """Frames already on the line may still arrive (corrupt ones raise); then silence."""
    for _ in range(5):
        try:
            await driver.read_reading(0.3)
        except DeviceTimeout:
            return True
        except DeviceProtocolError:
            continue
    return False


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_sma_request_response(transport: str, tmp_path: Path) -> None:
    model = ScaleModel(noise_kg=0)
    model.set_load_kg(24500)
    for _ in range(100):
        model.advance(0.05)
    async with served(transport, ScaleInterface(model, "sma"), tmp_path, FaultBook(), 9600) as s:
        reading = await ScaleDriver(s, "scale", "sma").read_reading(1.0)
        assert reading.weight_kg == 24500


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_rfid_inventory(transport: str, tmp_path: Path) -> None:
    model = RfidModel(read_probability=1.0, first_read_s=0.0)
    model.set_tag(EPC, 5.0)
    faults = FaultBook()
    async with served(transport, RfidInterface(model), tmp_path, faults, 57600) as stream:
        driver = RfidDriver(stream, "rfid", timeout_s=0.5)
        assert await driver.inventory() == (EPC,)
        model.set_tag(EPC, None)
        assert await driver.inventory() == ()
        faults.inject(FaultSpec(kind=FaultKind.NO_REPLY), 0.0)
        with pytest.raises(DeviceTimeout):
            await driver.inventory()
        faults.clear()
        faults.inject(FaultSpec(kind=FaultKind.SPLIT_FRAMES), 0.0)
        model.set_tag(EPC, 5.0)
        assert await driver.inventory() == (EPC,)  # a split frame still decodes


async def test_the_pty_paces_bytes_at_the_baud_rate(tmp_path: Path) -> None:
    model = RfidModel(read_probability=1.0, first_read_s=0.0)
    tags = [bytes([i]) * 12 for i in range(10)]
    for tag in tags:
        model.set_tag(tag, 3.0)
    async with served("pty", RfidInterface(model), tmp_path, FaultBook(), 9600) as stream:
        driver = RfidDriver(stream, "rfid", timeout_s=2.0)
        loop = asyncio.get_running_loop()
        start = loop.time()
        assert len(await driver.inventory()) == 10
        elapsed = loop.time() - start
    reply_bytes = 1 + 5 + 1 + 10 * 13
    assert elapsed >= reply_bytes * 10 / 9600 * 0.9  # the line model's lower bound
