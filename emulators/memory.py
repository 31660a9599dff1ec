"""In-memory adapters: emulators registered in a `MemoryHub` (`memory://NAME`).

Theory of operation: the fast path for simulations and tests. No bytes and no sockets:
the in-memory transport calls the registered `ModbusResponder` directly. Wire faults
still apply, reduced to what a PDU-level link can show: a fault that spoils or replaces
the reply (no reply, late, corrupt, garbage, split, disconnect) is silence
(`TimeoutError`: the client times out), an exception fault is that exception code (codes
the transport enum lacks become 04, server device failure). Serial helpers may follow in
their own section below.
"""

from __future__ import annotations

from collections.abc import Callable

from devices.transport.base import (
    MemoryHub,
    ModbusExceptionCode,
    ModbusExceptionReply,
    ModbusRequest,
    ModbusResponder,
)
from emulators.faults import FaultBook
from emulators.modbus_wire import WireFaults

# ---------------------------------------------------------------- Modbus


class FaultyResponder:
    """A responder behind a FaultBook, for in-memory links."""

    def __init__(
        self, inner: ModbusResponder, faults: FaultBook, clock: Callable[[], float]
    ) -> None:
        self.inner = inner
        self.wire = WireFaults(faults, clock)

    def respond(self, unit: int, request: ModbusRequest) -> tuple[int, ...]:
        if self.wire.disconnected(unit):
            raise TimeoutError
        plan = self.wire.plan(unit)
        if plan.exception_code is not None and plan.reply:
            raise ModbusExceptionReply(_exception_code(plan.exception_code))
        if not plan.execute:
            raise TimeoutError
        values = self.inner.respond(unit, request)
        if not plan.reply or plan.delay_s or plan.corrupt or plan.split:
            raise TimeoutError
        return values


def _exception_code(code: int) -> ModbusExceptionCode:
    try:
        return ModbusExceptionCode(code)
    except ValueError:
        return ModbusExceptionCode.SERVER_DEVICE_FAILURE


def serve_modbus_memory(
    hub: MemoryHub,
    name: str,
    responder: ModbusResponder,
    *,
    faults: FaultBook | None = None,
    clock: Callable[[], float] | None = None,
) -> ModbusResponder:
    """Register `responder` as `memory://name`; with `faults`, behind them (`clock` gives
    emulated time for the faults, required with them). Returns what was registered."""
    if name in hub.modbus:
        raise ValueError(f"memory://{name}: already served")
    if faults is not None:
        if clock is None:
            raise ValueError(f"memory://{name}: faults need a clock")
        responder = FaultyResponder(responder, faults, clock)
    hub.modbus[name] = responder
    return responder


def stop_modbus_memory(hub: MemoryHub, name: str) -> None:
    hub.modbus.pop(name, None)
