"""Conformance endpoints: each device family is checked over every transport its emulator
serves (memory, TCP or pty), and against a real device when a technician names one:

    GATEBRIDGE_HIL_IO=modbus-tcp://10.0.1.21:502#1
    GATEBRIDGE_HIL_BARRIER=modbus-rtu:///dev/ttyUSB0?baud=38400&parity=E#1
    GATEBRIDGE_HIL_SCALE=serial:///dev/ttyS1?baud=9600&bytesize=7&parity=E#toledo
    GATEBRIDGE_HIL_RFID=serial:///dev/ttyUSB1?baud=57600#0

(`#` carries the unit, protocol or reader address). Checks that need to steer the
physics (set an input, load the deck) run on emulators only; the rest run everywhere.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from devices.transport.base import ByteStream, MemoryHub, ModbusUnit
from devices.transport.modbus import ModbusLinks
from devices.transport.open import modbus_unit, open_serial
from emulators.barrier.interface import BarrierBusInterface
from emulators.barrier.model import BarrierModel
from emulators.base import EmulatedClock
from emulators.io.interface import IoInterface
from emulators.io.model import IoModel
from emulators.memory import serve_modbus_memory
from emulators.modbus_tcp import ModbusTcpServer
from emulators.rfid.interface import RfidInterface
from emulators.rfid.model import RfidModel
from emulators.rtu_pty import RtuPtyBus
from emulators.scale.interface import ScaleInterface
from emulators.scale.model import ScaleModel
from emulators.serial_port import SerialMemoryServer, SerialPtyServer


@dataclass
class Endpoint:
    """What a conformance check gets: a transport, and the model when it is emulated."""

    transport: str
    modbus: ModbusUnit | None = None
    stream: ByteStream | None = None
    model: object | None = None
    extra: str = ""

    @property
    def emulated(self) -> bool:
        return self.model is not None


def hil(family: str) -> list[str]:
    return ["hardware"] if os.environ.get(f"GATEBRIDGE_HIL_{family.upper()}") else []


def _hil_url(family: str) -> tuple[str, str]:
    url, _, extra = os.environ[f"GATEBRIDGE_HIL_{family.upper()}"].partition("#")
    return url, extra


@asynccontextmanager
async def io_endpoint(transport: str) -> AsyncIterator[Endpoint]:
    links = ModbusLinks(timeout_s=0.5)
    if transport == "hardware":
        url, unit = _hil_url("io")
        yield Endpoint(transport, modbus_unit(url, int(unit or 1), links=links))
    elif transport == "memory":
        model, hub = IoModel(safe_pattern=0b101), MemoryHub()
        serve_modbus_memory(hub, "io", IoInterface(model))
        yield Endpoint(transport, modbus_unit("memory://io", 1, links=links, hub=hub), model=model)
    else:
        model = IoModel(safe_pattern=0b101)
        async with ModbusTcpServer(IoInterface(model), models=[model]) as server:
            yield Endpoint(transport, modbus_unit(server.url, 1, links=links), model=model)
    await links.close()


@asynccontextmanager
async def barrier_endpoint(transport: str, tmp: Path) -> AsyncIterator[Endpoint]:
    links = ModbusLinks(timeout_s=0.5)
    if transport == "hardware":
        url, unit_id = _hil_url("barrier")
        yield Endpoint(transport, modbus_unit(url, int(unit_id or 1), links=links))
    else:
        model = BarrierModel(travel_s=0.3)
        bus = BarrierBusInterface({1: model})
        if transport == "memory":
            hub = MemoryHub()
            serve_modbus_memory(hub, "bus", bus)
            yield Endpoint(
                transport, modbus_unit("memory://bus", 1, links=links, hub=hub), model=model
            )
        else:
            async with RtuPtyBus(tmp / "rs485", bus, models=[model]):
                unit = modbus_unit(f"modbus-rtu://{tmp}/rs485?baud=38400", 1, links=links)
                yield Endpoint(transport, unit, model=model)
    await links.close()


@asynccontextmanager
async def serial_endpoint(family: str, transport: str, tmp: Path) -> AsyncIterator[Endpoint]:
    if transport == "hardware":
        url, extra = _hil_url(family)
        stream = await open_serial(url)
        yield Endpoint(transport, stream=stream, extra=extra)
        await stream.close()
        return
    model: ScaleModel | RfidModel
    if family == "scale":
        model = ScaleModel(noise_kg=0, settle_s=0.2)
        device: ScaleInterface | RfidInterface = ScaleInterface(model)
        baud, extra = 9600, "toledo"
    else:
        model = RfidModel(read_probability=1.0, first_read_s=0.0)
        device, baud, extra = RfidInterface(model), 57600, "0"
    clock = EmulatedClock()
    if transport == "memory":
        hub = MemoryHub()
        async with SerialMemoryServer(hub, family, device, clock):
            yield Endpoint(
                transport,
                stream=await open_serial(f"memory://{family}", hub=hub),
                model=model,
                extra=extra,
            )
    else:
        async with SerialPtyServer(tmp / family, device, clock, baud=baud):
            stream = await open_serial(f"serial://{tmp}/{family}?baud={baud}")
            yield Endpoint(transport, stream=stream, model=model, extra=extra)
            await stream.close()


@pytest.fixture
def tmp(tmp_path: Path) -> Path:
    return tmp_path
