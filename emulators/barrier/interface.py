"""Modbus map of the barrier controllers on one RS-485 bus (DESIGN 5.2).

Theory of operation: `BarrierBusInterface` is the `ModbusResponder` of a whole bus: it
holds one `BarrierModel` per unit id (1..247). A request to a unit nobody answers to gets
no reply (`TimeoutError`), like a silent bus; unit 0 is the Modbus broadcast: writes act
on every barrier and nobody replies. Per unit: holding 100..106 read the status block
(encoded by the driver's own codec, so both sides share one map), only 106 (auto-close,
0/1) is writable; coils 0 stop, 1 open, 3 close, 7 reset are momentary (a 1 acts, they
read back 0); coils 2, 4, 5, 6 and anything outside 0..7 answer exception 02.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from devices.barrier.codec import (
    AUTO_CLOSE_ADDRESS,
    INVALID_COILS,
    STATUS_ADDRESS,
    STATUS_COUNT,
    BarrierCoil,
    encode_status,
)
from devices.transport.base import (
    ModbusExceptionCode,
    ModbusExceptionReply,
    ModbusFunction,
    ModbusRequest,
)
from emulators.barrier.model import BarrierModel

COIL_COUNT = 8
_STATUS_END = STATUS_ADDRESS + STATUS_COUNT


def _refuse(code: ModbusExceptionCode) -> ModbusExceptionReply:
    return ModbusExceptionReply(code)


def _check_range(request: ModbusRequest, first: int, end: int) -> None:
    if request.address < first or request.address + request.count > end:
        raise _refuse(ModbusExceptionCode.ILLEGAL_DATA_ADDRESS)


def _check_coils(request: ModbusRequest) -> range:
    _check_range(request, 0, COIL_COUNT)
    coils = range(request.address, request.address + request.count)
    if any(coil in INVALID_COILS for coil in coils):
        raise _refuse(ModbusExceptionCode.ILLEGAL_DATA_ADDRESS)
    return coils


def _commands(model: BarrierModel) -> dict[int, Callable[[], None]]:
    return {
        BarrierCoil.STOP: model.stop,
        BarrierCoil.OPEN: model.open,
        BarrierCoil.CLOSE: model.close,
        BarrierCoil.RESET: model.reset,
    }


def respond_barrier(model: BarrierModel, request: ModbusRequest) -> tuple[int, ...]:
    """One barrier's answer to `request` (its Modbus map)."""
    function = request.function
    if function == ModbusFunction.READ_HOLDING_REGISTERS:
        _check_range(request, STATUS_ADDRESS, _STATUS_END)
        first = request.address - STATUS_ADDRESS
        return tuple(encode_status(model.status())[first : first + request.count])
    if function in (ModbusFunction.WRITE_SINGLE_REGISTER, ModbusFunction.WRITE_MULTIPLE_REGISTERS):
        if request.address != AUTO_CLOSE_ADDRESS or request.count != 1:
            raise _refuse(ModbusExceptionCode.ILLEGAL_DATA_ADDRESS)
        if request.values[0] not in (0, 1):
            raise _refuse(ModbusExceptionCode.ILLEGAL_DATA_VALUE)
        model.set_auto_close(bool(request.values[0]))
        return request.values
    if function == ModbusFunction.READ_COILS:
        return (0,) * len(_check_coils(request))
    if function in (ModbusFunction.WRITE_SINGLE_COIL, ModbusFunction.WRITE_MULTIPLE_COILS):
        commands = _commands(model)
        for coil, value in zip(_check_coils(request), request.values, strict=True):
            if value:
                commands[coil]()
        return request.values
    raise _refuse(ModbusExceptionCode.ILLEGAL_FUNCTION)


class BarrierBusInterface:
    def __init__(self, barriers: Mapping[int, BarrierModel]) -> None:
        bad = [unit for unit in barriers if not 1 <= unit <= 247]
        if bad:
            raise ValueError(f"barrier units: 1..247, got {bad}")
        self.barriers = dict(barriers)

    def respond(self, unit: int, request: ModbusRequest) -> tuple[int, ...]:
        if unit == 0:
            self._broadcast(request)
            raise TimeoutError
        model = self.barriers.get(unit)
        if model is None:
            raise TimeoutError
        return respond_barrier(model, request)

    def _broadcast(self, request: ModbusRequest) -> None:
        if request.function in (ModbusFunction.READ_COILS, ModbusFunction.READ_HOLDING_REGISTERS):
            return
        for model in self.barriers.values():
            try:
                respond_barrier(model, request)
            except ModbusExceptionReply:
                return
