"""The I/O module's Modbus map: values, exception codes, and the watchdog feed."""

from __future__ import annotations

import pytest

from devices.transport.base import (
    ModbusExceptionCode,
    ModbusExceptionReply,
    ModbusFunction,
    ModbusRequest,
)
from emulators.faults import FaultKind, FaultSpec
from emulators.io.interface import IoInterface
from emulators.io.model import IoModel

F = ModbusFunction


def refused(interface: IoInterface, request: ModbusRequest) -> ModbusExceptionCode:
    with pytest.raises(ModbusExceptionReply) as caught:
        interface.respond(1, request)
    return caught.value.code


def test_reads_and_writes_map_onto_the_model() -> None:
    model = IoModel(safe_pattern=0b1)
    io = IoInterface(model)
    model.set_input(3, True)
    assert io.respond(1, ModbusRequest(F.READ_DISCRETE_INPUTS, 2, 3)) == (0, 1, 0)
    assert io.respond(1, ModbusRequest(F.WRITE_SINGLE_COIL, 4, 1, (1,))) == (1,)
    assert io.respond(9, ModbusRequest(F.READ_COILS, 0, 5)) == (1, 0, 0, 0, 1)
    assert io.respond(1, ModbusRequest(F.READ_INPUT_REGISTERS, 1, 1)) == (0x0100,)


def test_watchdog_registers() -> None:
    model = IoModel()
    io = IoInterface(model)
    io.respond(1, ModbusRequest(F.WRITE_MULTIPLE_REGISTERS, 0x1000, 2, (250, 0b11)))
    assert (model.watchdog_ms, model.safe_pattern) == (250, 0b11)
    assert io.respond(1, ModbusRequest(F.READ_HOLDING_REGISTERS, 0x1001, 2)) == (0b11, 0)
    model.advance(0.3)
    assert io.respond(1, ModbusRequest(F.READ_HOLDING_REGISTERS, 0x1002, 1)) == (1,)
    io.respond(1, ModbusRequest(F.WRITE_SINGLE_REGISTER, 0x1002, 1, (0,)))
    assert not model.tripped


@pytest.mark.parametrize(
    ("request_", "code"),
    [
        (ModbusRequest(F.READ_DISCRETE_INPUTS, 15, 2), ModbusExceptionCode.ILLEGAL_DATA_ADDRESS),
        (ModbusRequest(F.WRITE_MULTIPLE_COILS, 14, 3, (1, 1, 1)), 2),
        (ModbusRequest(F.READ_HOLDING_REGISTERS, 0x0FFF, 2), 2),
        (ModbusRequest(F.WRITE_SINGLE_REGISTER, 0x1003, 1, (0,)), 2),
        (ModbusRequest(F.READ_INPUT_REGISTERS, 0, 3), 2),
        (ModbusRequest(F.WRITE_SINGLE_REGISTER, 0x1002, 1, (1,)), 3),
    ],
)
def test_exception_codes(request_: ModbusRequest, code: int) -> None:
    assert refused(IoInterface(IoModel()), request_) == code


def test_coil_writes_while_tripped_are_exception_04() -> None:
    model = IoModel(watchdog_ms=100)
    model.advance(0.2)
    assert refused(IoInterface(model), ModbusRequest(F.WRITE_SINGLE_COIL, 0, 1, (1,))) == 4


def test_every_request_feeds_the_watchdog_even_a_refused_one() -> None:
    model = IoModel(watchdog_ms=100)
    io = IoInterface(model)
    for _ in range(5):
        model.advance(0.08)
        refused(io, ModbusRequest(F.READ_INPUT_REGISTERS, 7, 1))
    assert not model.tripped


def test_lamp_current_senses_follow_their_lamps_and_a_blown_lamp_reads_off() -> None:
    model = IoModel(safe_pattern=0b1, lamp_sense={6: 0, 7: 2})
    io = IoInterface(model)
    assert io.respond(1, ModbusRequest(F.READ_DISCRETE_INPUTS, 6, 2)) == (1, 0)
    io.respond(1, ModbusRequest(F.WRITE_MULTIPLE_COILS, 0, 3, (0, 1, 1)))
    assert io.respond(1, ModbusRequest(F.READ_DISCRETE_INPUTS, 6, 2)) == (0, 1)
    model.faults.inject(FaultSpec(kind=FaultKind.SENSOR_STUCK_OFF, channel=7), model.now)
    assert io.respond(1, ModbusRequest(F.READ_DISCRETE_INPUTS, 6, 2)) == (0, 0)
    assert model.output(2)  # the lamp is driven; only its current is missing


def test_a_lamp_sense_outside_the_module_is_refused() -> None:
    with pytest.raises(ValueError, match="lamp_sense: input 16 -> output 0 out of range"):
        IoModel(lamp_sense={16: 0})
