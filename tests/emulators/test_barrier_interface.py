"""The barrier bus's Modbus map: coils, status block, exception codes, units, broadcast."""

from __future__ import annotations

import pytest

from devices.barrier.codec import BarrierState
from devices.transport.base import ModbusExceptionReply, ModbusFunction, ModbusRequest
from emulators.barrier.interface import BarrierBusInterface
from emulators.barrier.model import BarrierModel

F = ModbusFunction


@pytest.fixture
def bus() -> BarrierBusInterface:
    return BarrierBusInterface({1: BarrierModel(), 2: BarrierModel(position=100.0)})


def refused(bus: BarrierBusInterface, request: ModbusRequest, unit: int = 1) -> int:
    with pytest.raises(ModbusExceptionReply) as caught:
        bus.respond(unit, request)
    return caught.value.code


def test_open_coil_moves_only_the_addressed_barrier(bus: BarrierBusInterface) -> None:
    assert bus.respond(1, ModbusRequest(F.WRITE_SINGLE_COIL, 1, 1, (1,))) == (1,)
    assert bus.barriers[1].state == BarrierState.OPENING
    assert bus.barriers[2].state == BarrierState.OPEN


def test_writing_zero_to_a_momentary_coil_does_nothing(bus: BarrierBusInterface) -> None:
    bus.respond(1, ModbusRequest(F.WRITE_SINGLE_COIL, 1, 1, (0,)))
    assert bus.barriers[1].state == BarrierState.CLOSED
    assert bus.respond(1, ModbusRequest(F.READ_COILS, 0, 2)) == (0, 0)


def test_status_block_reads(bus: BarrierBusInterface) -> None:
    block = bus.respond(2, ModbusRequest(F.READ_HOLDING_REGISTERS, 100, 7))
    assert block == (16, 100, 0, 0, 0, 0, 0)
    assert bus.respond(2, ModbusRequest(F.READ_HOLDING_REGISTERS, 101, 1)) == (100,)


def test_auto_close_register(bus: BarrierBusInterface) -> None:
    bus.respond(1, ModbusRequest(F.WRITE_SINGLE_REGISTER, 106, 1, (1,)))
    assert bus.barriers[1].auto_close
    assert bus.respond(1, ModbusRequest(F.READ_HOLDING_REGISTERS, 106, 1)) == (1,)
    assert bus.respond(1, ModbusRequest(F.READ_HOLDING_REGISTERS, 102, 1)) == (16,)


@pytest.mark.parametrize("coil", [2, 4, 5, 6, 8])
def test_invalid_coils_are_exception_02(bus: BarrierBusInterface, coil: int) -> None:
    assert refused(bus, ModbusRequest(F.WRITE_SINGLE_COIL, coil, 1, (1,))) == 2
    assert bus.barriers[1].state == BarrierState.CLOSED


@pytest.mark.parametrize(
    ("request_", "code"),
    [
        (ModbusRequest(F.WRITE_MULTIPLE_COILS, 0, 3, (0, 0, 0)), 2),
        (ModbusRequest(F.READ_COILS, 0, 8), 2),
        (ModbusRequest(F.READ_HOLDING_REGISTERS, 99, 2), 2),
        (ModbusRequest(F.READ_HOLDING_REGISTERS, 106, 2), 2),
        (ModbusRequest(F.WRITE_SINGLE_REGISTER, 100, 1, (0,)), 2),
        (ModbusRequest(F.WRITE_SINGLE_REGISTER, 106, 1, (2,)), 3),
        (ModbusRequest(F.READ_DISCRETE_INPUTS, 0, 1), 1),
        (ModbusRequest(F.READ_INPUT_REGISTERS, 0, 1), 1),
    ],
)
def test_exception_codes(bus: BarrierBusInterface, request_: ModbusRequest, code: int) -> None:
    assert refused(bus, request_) == code


def test_unknown_unit_stays_silent(bus: BarrierBusInterface) -> None:
    with pytest.raises(TimeoutError):
        bus.respond(3, ModbusRequest(F.READ_HOLDING_REGISTERS, 100, 7))


def test_broadcast_acts_on_every_barrier_without_a_reply(bus: BarrierBusInterface) -> None:
    with pytest.raises(TimeoutError):
        bus.respond(0, ModbusRequest(F.WRITE_SINGLE_COIL, 3, 1, (1,)))
    assert bus.barriers[2].state == BarrierState.CLOSING
    assert bus.barriers[1].state == BarrierState.CLOSED


def test_units_are_checked() -> None:
    with pytest.raises(ValueError, match=r"1\.\.247"):
        BarrierBusInterface({248: BarrierModel()})
