"""The pymodbus link against the emulators' real servers (Modbus TCP on 127.0.0.1, an
RTU bus on a pty), the in-memory link, and the serial pipe: our errors, never pymodbus's."""

from __future__ import annotations

from pathlib import Path

import pytest

from controller.errors import ConfigError, DeviceBroken, DeviceRefused, DeviceTimeout
from devices.barrier.codec import BarrierState
from devices.barrier.driver import BarrierDriver
from devices.io.driver import IoDriver
from devices.transport.base import MemoryHub
from devices.transport.memory import MemoryModbusLink, memory_pipe
from devices.transport.modbus import ModbusLink, ModbusLinks
from devices.transport.url import ModbusRtuUrl, ModbusTcpUrl, parse_url
from emulators.barrier.interface import BarrierBusInterface
from emulators.barrier.model import BarrierModel
from emulators.faults import FaultKind, FaultSpec
from emulators.io.interface import IoInterface
from emulators.io.model import IoModel
from emulators.memory import serve_modbus_memory
from emulators.modbus_tcp import ModbusTcpServer
from emulators.rtu_pty import RtuPtyBus


async def test_io_module_over_modbus_tcp() -> None:
    model = IoModel(safe_pattern=0b101)
    model.set_input(2, True)
    async with ModbusTcpServer(IoInterface(model), models=[model]) as server:
        link = ModbusLink.tcp(ModbusTcpUrl("127.0.0.1", server.port), timeout_s=0.5)
        io = IoDriver(link.unit(1))
        inputs = await io.read_inputs()
        assert inputs[2]
        assert not inputs[0]
        await io.write_outputs([True, False, False, True] + [False] * 12)
        assert model.outputs == 0b1001
        await io.arm_watchdog(300, 0b101)
        assert (model.watchdog_ms, model.safe_pattern) == (300, 0b101)
        assert str(await io.identity()) == "model 0x1214, firmware 1.0"
        await link.close()


async def test_exceptions_and_silence_become_our_errors() -> None:
    model = IoModel()
    async with ModbusTcpServer(IoInterface(model), models=[model]) as server:
        link = ModbusLink.tcp(ModbusTcpUrl("127.0.0.1", server.port), timeout_s=0.3)
        unit = link.unit(1)
        with pytest.raises(DeviceRefused) as refused:
            await unit.read_holding_registers(0x2000, 1)  # not in the map
        assert refused.value.code == 2
        server.inject(FaultSpec(kind=FaultKind.NO_REPLY))
        with pytest.raises(DeviceTimeout):
            await unit.read_discrete_inputs(0, 16)
        server.faults.clear()
        # the late-reply hazard: the link reconnected, so this answer is this request's
        assert len(await unit.read_discrete_inputs(0, 16)) == 16
        await link.close()


async def test_a_late_reply_is_never_the_answer_to_the_next_request() -> None:
    """pymodbus issues #538/#1509: after a timeout, a late reply must not be handed to the
    next request. The emulator answers the first read 0.6 s late (the link waits 0.3 s)."""
    model = IoModel()
    async with ModbusTcpServer(IoInterface(model), models=[model]) as server:
        link = ModbusLink.tcp(ModbusTcpUrl("127.0.0.1", server.port), timeout_s=0.3)
        unit = link.unit(1)
        server.inject(FaultSpec(kind=FaultKind.LATE_REPLY, delay_s=0.6, duration_s=0.05))
        with pytest.raises(DeviceTimeout):
            await unit.read_holding_registers(0x1000, 3)  # answered late with 3 registers
        model.set_input(7, True)
        inputs = await unit.read_discrete_inputs(0, 16)  # must be this request's own answer
        assert len(inputs) == 16
        assert inputs[7]
        await link.close()


async def test_a_refused_connection_is_broken_not_a_timeout() -> None:
    link = ModbusLink.tcp(ModbusTcpUrl("127.0.0.1", 1), timeout_s=0.3)
    with pytest.raises(DeviceBroken):
        await link.unit(1).read_coils(0, 1)


async def test_two_barriers_on_one_rtu_bus(tmp_path: Path) -> None:
    entry, exit_ = BarrierModel(), BarrierModel(position=100)
    path = tmp_path / "rs485"
    async with RtuPtyBus(path, BarrierBusInterface({1: entry, 2: exit_}), models=[entry, exit_]):
        url = parse_url(f"modbus-rtu://{path}?baud=38400")
        assert isinstance(url, ModbusRtuUrl)
        links = ModbusLinks(timeout_s=0.5)
        first, second = links.link(url, 1), links.link(url, 2)
        assert first is second  # one bus, one link
        status = await BarrierDriver(first.unit(2), "exit").read_status()
        assert status.state == BarrierState.OPEN
        await BarrierDriver(first.unit(1), "entry").open()
        assert entry.state == BarrierState.OPENING
        await links.close()


def test_a_bus_refuses_conflicting_settings_and_duplicate_units(tmp_path: Path) -> None:
    links = ModbusLinks()
    fast = parse_url(f"modbus-rtu://{tmp_path}/bus?baud=38400")
    slow = parse_url(f"modbus-rtu://{tmp_path}/bus?baud=9600")
    assert isinstance(fast, ModbusRtuUrl)
    assert isinstance(slow, ModbusRtuUrl)
    links.link(fast, 1)
    with pytest.raises(ConfigError, match="unit 1 is used twice"):
        links.link(fast, 1)
    with pytest.raises(ConfigError, match="conflict"):
        links.link(slow, 2)


async def test_memory_link_maps_replies_like_the_wire() -> None:
    hub = MemoryHub()
    model = IoModel()
    serve_modbus_memory(hub, "io", IoInterface(model))
    unit = MemoryModbusLink(hub, "io").unit(1)
    assert len(await unit.read_discrete_inputs(0, 16)) == 16
    with pytest.raises(DeviceRefused):
        await unit.read_holding_registers(0x2000, 1)
    with pytest.raises(DeviceBroken):
        await MemoryModbusLink(hub, "nothing").unit(1).read_coils(0, 1)


async def test_memory_pipe() -> None:
    device, controller = memory_pipe("scale")
    await device.write(b"abc")
    assert await controller.read(2) == b"ab"
    assert await controller.read() == b"c"
    await device.write(b"late")
    controller.discard_input()
    await device.close()
    with pytest.raises(DeviceBroken):
        await controller.read()
