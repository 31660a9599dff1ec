"""Modbus map of the digital I/O module (DESIGN 5.1) over `IoModel`.

Theory of operation: `IoInterface` is a `ModbusResponder`. Every request, good or bad,
first feeds the model's communication watchdog (a request reached the module), then is
checked against the map (exception 02 outside it, 01 for a function the module lacks)
and applied: FC2 inputs 0..n-1, FC1/FC5/FC15 coils 0..n-1 (exception 04 while the
watchdog is tripped), FC3/FC6/FC16 holding 0x1000 timeout ms, 0x1001 safe pattern,
0x1002 status (only 0 may be written: it re-arms the watchdog), FC4 input registers
0..1 identity. The unit id is ignored, as on the modules this is modelled on.
"""

from __future__ import annotations

from collections.abc import Callable

from devices.io.codec import (
    FIRMWARE_VERSION,
    MODEL_CODE,
    WATCHDOG_SAFE_PATTERN_ADDRESS,
    WATCHDOG_STATUS_ADDRESS,
    WATCHDOG_TIMEOUT_ADDRESS,
)
from devices.transport.base import (
    ModbusExceptionCode,
    ModbusExceptionReply,
    ModbusFunction,
    ModbusRequest,
)
from emulators.io.model import IoModel

_WATCHDOG_END = WATCHDOG_STATUS_ADDRESS + 1


def _bits(pattern: int, first: int, count: int) -> tuple[int, ...]:
    return tuple((pattern >> (first + i)) & 1 for i in range(count))


def _check_range(request: ModbusRequest, first: int, end: int) -> None:
    if request.address < first or request.address + request.count > end:
        raise ModbusExceptionReply(ModbusExceptionCode.ILLEGAL_DATA_ADDRESS)


class IoInterface:
    def __init__(self, model: IoModel) -> None:
        self.model = model
        f = ModbusFunction
        self._handlers: dict[ModbusFunction, Callable[[ModbusRequest], tuple[int, ...]]] = {
            f.READ_DISCRETE_INPUTS: self._read_inputs,
            f.READ_COILS: self._read_coils,
            f.WRITE_SINGLE_COIL: self._write_coils,
            f.WRITE_MULTIPLE_COILS: self._write_coils,
            f.READ_HOLDING_REGISTERS: self._read_holding,
            f.WRITE_SINGLE_REGISTER: self._write_holding,
            f.WRITE_MULTIPLE_REGISTERS: self._write_holding,
            f.READ_INPUT_REGISTERS: self._read_identity,
        }

    def respond(self, unit: int, request: ModbusRequest) -> tuple[int, ...]:
        self.model.note_request()
        handler = self._handlers.get(request.function)
        if handler is None:
            raise ModbusExceptionReply(ModbusExceptionCode.ILLEGAL_FUNCTION)
        return handler(request)

    def _read_inputs(self, request: ModbusRequest) -> tuple[int, ...]:
        _check_range(request, 0, self.model.input_count)
        return _bits(self.model.inputs, request.address, request.count)

    def _read_coils(self, request: ModbusRequest) -> tuple[int, ...]:
        _check_range(request, 0, self.model.output_count)
        return _bits(self.model.outputs, request.address, request.count)

    def _write_coils(self, request: ModbusRequest) -> tuple[int, ...]:
        _check_range(request, 0, self.model.output_count)
        if not self.model.write_outputs(request.address, list(request.values)):
            raise ModbusExceptionReply(ModbusExceptionCode.SERVER_DEVICE_FAILURE)
        return request.values

    def _read_holding(self, request: ModbusRequest) -> tuple[int, ...]:
        _check_range(request, WATCHDOG_TIMEOUT_ADDRESS, _WATCHDOG_END)
        model = self.model
        image = (model.watchdog_ms, model.safe_pattern, int(model.tripped))
        first = request.address - WATCHDOG_TIMEOUT_ADDRESS
        return image[first : first + request.count]

    def _write_holding(self, request: ModbusRequest) -> tuple[int, ...]:
        _check_range(request, WATCHDOG_TIMEOUT_ADDRESS, _WATCHDOG_END)
        writes = dict(enumerate(request.values, start=request.address))
        if writes.get(WATCHDOG_STATUS_ADDRESS, 0) != 0:
            raise ModbusExceptionReply(ModbusExceptionCode.ILLEGAL_DATA_VALUE)
        if WATCHDOG_TIMEOUT_ADDRESS in writes:
            self.model.watchdog_ms = writes[WATCHDOG_TIMEOUT_ADDRESS]
        if WATCHDOG_SAFE_PATTERN_ADDRESS in writes:
            self.model.set_safe_pattern(writes[WATCHDOG_SAFE_PATTERN_ADDRESS])
        if WATCHDOG_STATUS_ADDRESS in writes:
            self.model.reset_watchdog()
        return request.values

    def _read_identity(self, request: ModbusRequest) -> tuple[int, ...]:
        _check_range(request, 0, 2)
        return (MODEL_CODE, FIRMWARE_VERSION)[request.address : request.address + request.count]
