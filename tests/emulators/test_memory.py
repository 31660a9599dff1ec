"""In-memory Modbus endpoints, with and without wire faults."""

from __future__ import annotations

import pytest

from devices.transport.base import MemoryHub, ModbusExceptionReply, ModbusFunction, ModbusRequest
from emulators.faults import FaultBook, FaultKind, FaultSpec, Trigger
from emulators.io.interface import IoInterface
from emulators.io.model import IoModel
from emulators.memory import serve_modbus_memory, stop_modbus_memory

WRITE = ModbusRequest(ModbusFunction.WRITE_SINGLE_COIL, 0, 1, (1,))
READ = ModbusRequest(ModbusFunction.READ_COILS, 0, 1)


def test_registers_and_stops_an_endpoint() -> None:
    hub = MemoryHub()
    io = IoInterface(IoModel())
    assert serve_modbus_memory(hub, "io", io) is io
    assert hub.modbus["io"].respond(1, WRITE) == (1,)
    with pytest.raises(ValueError, match="already served"):
        serve_modbus_memory(hub, "io", io)
    stop_modbus_memory(hub, "io")
    assert "io" not in hub.modbus


def test_faults_need_a_clock() -> None:
    with pytest.raises(ValueError, match="clock"):
        serve_modbus_memory(MemoryHub(), "io", IoInterface(IoModel()), faults=FaultBook())


@pytest.mark.parametrize(
    ("kind", "executed"),
    [
        (FaultKind.NO_REPLY, False),
        (FaultKind.GARBAGE, False),
        (FaultKind.LATE_REPLY, True),
        (FaultKind.CORRUPT_CHECKSUM, True),
        (FaultKind.SPLIT_FRAMES, True),
    ],
)
def test_spoiled_replies_are_silence(kind: FaultKind, executed: bool) -> None:
    model, faults = IoModel(), FaultBook()
    endpoint = serve_modbus_memory(
        MemoryHub(), "io", IoInterface(model), faults=faults, clock=lambda: 0.0
    )
    faults.inject(FaultSpec(kind=kind), 0.0)
    with pytest.raises(TimeoutError):
        endpoint.respond(1, WRITE)
    assert model.outputs == int(executed)


@pytest.mark.parametrize(("code", "seen"), [(6, 6), (11, 4)])
def test_exception_fault(code: int, seen: int) -> None:
    faults = FaultBook()
    endpoint = serve_modbus_memory(
        MemoryHub(), "io", IoInterface(IoModel()), faults=faults, clock=lambda: 0.0
    )
    faults.inject(FaultSpec(kind=FaultKind.MODBUS_EXCEPTION, exception_code=code), 0.0)
    with pytest.raises(ModbusExceptionReply) as caught:
        endpoint.respond(1, READ)
    assert caught.value.code == seen


def test_disconnect_lasts_until_cleared() -> None:
    faults = FaultBook()
    endpoint = serve_modbus_memory(
        MemoryHub(), "io", IoInterface(IoModel()), faults=faults, clock=lambda: 0.0
    )
    faults.inject(FaultSpec(kind=FaultKind.DISCONNECT, trigger=Trigger(mode="probability")), 0.0)
    for _ in range(3):
        with pytest.raises(TimeoutError):
            endpoint.respond(1, READ)
    faults.clear()
    assert endpoint.respond(1, READ) == (0,)
