"""What the Modbus emulator adapters (TCP, RTU on a pty, in-memory) share.

Theory of operation: an adapter frames a request, then asks `WireFaults.plan` what the
wire does with it this time (the faults of the device's `FaultBook` that fire on this
frame), runs it through the device's `ModbusResponder` with `answer` (PDU in, PDU out),
and hands the reply bytes to an `Outbox`, which writes them at absolute loop-time
deadlines, in order, so a late reply delays the ones behind it as a real device does.

Fault semantics: faults that replace the reply (no reply, exception, garbage, disconnect)
mean the request never reached the device: it is not executed. Faults that spoil the
delivery (late, corrupt, split) leave the request executed, as when a reply is lost on
the line after the device acted. A disconnect latches until its fault is no longer armed.
"""

from __future__ import annotations

import asyncio
import struct
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from controller.errors import DeviceProtocolError
from devices.modbus.rtu import decode_request_pdu, encode_exception_pdu, encode_response_pdu
from devices.transport.base import ModbusExceptionCode, ModbusExceptionReply, ModbusResponder
from emulators.faults import FaultBook, FaultKind, FaultSpec


@dataclass(slots=True)
class WireStats:
    """Counters for benchmarks and tests."""

    requests: int = 0  # well-framed requests seen
    replies: int = 0  # frames written back (including spoiled ones)
    errors: int = 0  # bad frames (CRC, framing), responder failures, lost writes
    silent: int = 0  # requests left unanswered (faults, unknown unit, broadcast)


@dataclass(frozen=True, slots=True)
class WirePlan:
    execute: bool = True
    reply: bool = True
    exception_code: int | None = None
    delay_s: float = 0.0
    corrupt: bool = False
    garbage_bytes: int = 0
    split: bool = False
    disconnect: bool = False


_REPLACING = (FaultKind.NO_REPLY, FaultKind.MODBUS_EXCEPTION, FaultKind.GARBAGE)


CLEAN = WirePlan()  # no fault fired: the common case, asked for on every request


def plan_for(fired: list[FaultSpec]) -> WirePlan:
    if not fired:
        return CLEAN
    kinds = {spec.kind: spec for spec in fired}
    exception = kinds.get(FaultKind.MODBUS_EXCEPTION)
    garbage = kinds.get(FaultKind.GARBAGE)
    late = kinds.get(FaultKind.LATE_REPLY)
    return WirePlan(
        execute=not any(kind in kinds for kind in (*_REPLACING, FaultKind.DISCONNECT)),
        reply=FaultKind.NO_REPLY not in kinds and FaultKind.DISCONNECT not in kinds,
        exception_code=exception.exception_code if exception else None,
        delay_s=late.delay_s if late else 0.0,
        corrupt=FaultKind.CORRUPT_CHECKSUM in kinds,
        garbage_bytes=garbage.garbage_bytes if garbage else 0,
        split=FaultKind.SPLIT_FRAMES in kinds,
        disconnect=FaultKind.DISCONNECT in kinds,
    )


class WireFaults:
    """A device's FaultBook seen frame by frame, with the disconnect latch."""

    def __init__(self, book: FaultBook | None, clock: Callable[[], float]) -> None:
        self.book = book or FaultBook()
        self._clock = clock
        self._cut: list[FaultSpec] = []

    def plan(self, unit: int | None) -> WirePlan:
        plan = plan_for(self.book.on_frame(self._clock(), unit))
        if plan.disconnect:
            armed = self.book.all_active(self._clock())
            self._cut.extend(
                s for s in armed if s.kind == FaultKind.DISCONNECT and s not in self._cut
            )
        return plan

    def disconnected(self, unit: int | None = None) -> bool:
        """A disconnect fired and its fault is still armed (for `unit`, or for any)."""
        if not self._cut:
            return False
        armed = self.book.all_active(self._clock())
        self._cut = [spec for spec in self._cut if spec in armed]
        return any(spec.unit is None or unit is None or spec.unit == unit for spec in self._cut)


def answer(responder: ModbusResponder, device: str, unit: int, pdu: bytes) -> bytes | None:
    """The response PDU to request `pdu`, or None when the device stays silent."""
    function = pdu[0] if pdu else 0
    try:
        request = decode_request_pdu(device, pdu)
        return encode_response_pdu(request, responder.respond(unit, request))
    except ModbusExceptionReply as exc:
        return encode_exception_pdu(function, exc.code)
    except DeviceProtocolError:
        return encode_exception_pdu(function, ModbusExceptionCode.ILLEGAL_DATA_VALUE)
    except TimeoutError:
        return None
    except (ValueError, struct.error):  # a responder bug must not kill the adapter
        return encode_exception_pdu(function, ModbusExceptionCode.SERVER_DEVICE_FAILURE)


class Outbox:
    """Writes chunks at absolute loop times, first in, first out."""

    def __init__(self, write: Callable[[bytes], None]) -> None:
        self._loop = asyncio.get_running_loop()
        self._write = write
        self._queue: deque[tuple[float, bytes]] = deque()
        self._timer: asyncio.TimerHandle | None = None

    @property
    def last_deadline(self) -> float:
        return self._queue[-1][0] if self._queue else float("-inf")

    def send_at(self, when: float, data: bytes) -> None:
        when = max(when, self.last_deadline)
        if not self._queue and when <= self._loop.time():
            self._write(data)
            return
        self._queue.append((when, data))
        if self._timer is None:
            self._timer = self._loop.call_at(when, self._pump)

    def _pump(self) -> None:
        self._timer = None
        # the head is due (the loop fired for it, within its clock resolution)
        self._write(self._queue.popleft()[1])
        while self._queue and self._queue[0][0] <= self._loop.time():
            self._write(self._queue.popleft()[1])
        if self._queue:
            self._timer = self._loop.call_at(self._queue[0][0], self._pump)

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._queue.clear()
