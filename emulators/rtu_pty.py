"""An RS-485 bus of emulated Modbus RTU devices on a pty (DESIGN 5.5, 8).

Theory of operation: the bus opens a pty pair, puts the slave side in raw mode and links
it at the configured path (the port the controller opens, 8N1: ptys refuse other line
settings); it keeps the slave side open itself, so clients may come and go. Requests are
read from the master side in the event loop (`add_reader`, non-blocking) and framed as an
RTU slave does: by the length the function code fixes, else by 3.5 characters of silence.
A frame with a bad CRC is ignored, and so is everything after it until the line falls
silent, as on a real bus. The bus's `ModbusResponder` answers the addressed unit (no
reply to an unknown unit or to broadcasts).

`LineModel` times the wire (a pty delivers at once): 11 bits per character at `baudrate`,
t3.5 fixed at 1.75 ms above 19200 baud. One transaction at a time: a request starts when
it arrived, or when the bus is free again; its reply is written at the ABSOLUTE deadline
request + t3.5 + turnaround + reply, and the bus stays busy for t3.5 more. Absolute
deadlines keep the loop's timer overshoot (about 1 ms here) from adding up. With the line
model off, replies leave at once. Wire faults come from the FaultBook (`modbus_wire`);
corrupt flips the CRC, split writes the reply in two parts `SPLIT_GAP_S` apart (well over
t3.5: a timing reader sees two broken frames), disconnect makes the unit (or the bus)
silent until the fault is cleared.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import tty
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from controller.errors import DeviceBroken, DeviceProtocolError
from devices.modbus.rtu import (
    MAX_ADU,
    decode_adu,
    encode_adu,
    encode_exception_pdu,
    request_frame_length,
)
from devices.transport.base import ModbusResponder
from emulators.base import EmulatedClock, Model, StartStopServer, run_models
from emulators.faults import FaultBook, FaultSpec
from emulators.modbus_wire import Outbox, WireFaults, WirePlan, WireStats, answer

SPLIT_GAP_S = 0.01


@dataclass(slots=True)
class LineModel:
    baudrate: int = 38400
    turnaround_s: float = 0.002
    enabled: bool = True
    bits_per_char: int = 11

    @property
    def char_s(self) -> float:
        return self.bits_per_char / self.baudrate

    @property
    def t35(self) -> float:
        return 0.00175 if self.baudrate > 19200 else 3.5 * self.char_s

    def wire_s(self, chars: int) -> float:
        return chars * self.char_s

    def reply_after_s(self, request_chars: int, reply_chars: int) -> float:
        """From the first request character on the wire to the last reply character."""
        silence = self.t35 + self.turnaround_s
        return self.wire_s(request_chars) + silence + self.wire_s(reply_chars)

    def transaction_s(self, request_chars: int, reply_chars: int) -> float:
        """The bus time of one transaction, with the silence after the reply."""
        return self.reply_after_s(request_chars, reply_chars) + self.t35


class RtuPtyBus(StartStopServer):
    def __init__(
        self,
        path: str | Path,
        responder: ModbusResponder,
        *,
        line: LineModel | None = None,
        faults: FaultBook | None = None,
        clock: EmulatedClock | None = None,
        models: Sequence[Model] = (),
        name: str | None = None,
        seed: int = 0,
    ) -> None:
        self.path = Path(path)
        self.responder = responder
        self.line = line or LineModel()
        self.faults = faults or FaultBook()
        self.name = name or f"rtu:{self.path}"
        self.stats = WireStats()
        self.tty_name = ""
        self._clock = clock
        self._models = models
        self._rng = random.Random(seed)  # noqa: S311 - garbage bytes, not cryptography
        self._fds: tuple[int, int] | None = None
        self._buffer = bytearray()
        self._frame_start = 0.0
        self._junk = False
        self._silence: asyncio.TimerHandle | None = None
        self._bus_free_at = 0.0
        self._ticker: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop
        self._outbox: Outbox
        self.wire: WireFaults

    @property
    def clock(self) -> EmulatedClock:
        if self._clock is None:
            raise RuntimeError(f"{self.name}: not started")
        return self._clock

    def inject(self, spec: FaultSpec) -> None:
        """Inject a wire fault from now (the bus's emulated time)."""
        self.faults.inject(spec, self.clock.now())

    # ------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._clock = self._clock or EmulatedClock()
        self.wire = WireFaults(self.faults, self._clock.now)
        master, slave = os.openpty()
        self._fds = (master, slave)
        tty.setraw(slave)
        os.set_blocking(master, False)
        self.tty_name = os.ttyname(slave)
        self._link()
        self._outbox = Outbox(self._write)
        self._loop.add_reader(master, self._on_readable)
        if self._models:
            self._ticker = self._loop.create_task(run_models(self._models, self._clock))

    def _link(self) -> None:
        if self.path.exists() and not self.path.is_symlink():
            self.close_fds()
            raise DeviceBroken(self.name, f"{self.path} exists and is not a symlink; not replaced")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.unlink(missing_ok=True)
        self.path.symlink_to(self.tty_name)

    async def close(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
            self._ticker = None
        if self._fds is None:
            return
        self._loop.remove_reader(self._fds[0])
        self._outbox.close()
        if self._silence is not None:
            self._silence.cancel()
        if self.path.is_symlink() and os.readlink(self.path) == self.tty_name:
            self.path.unlink()
        self.close_fds()

    def close_fds(self) -> None:
        if self._fds is not None:
            for fd in self._fds:
                os.close(fd)
            self._fds = None

    # ------------------------------------------------------------ receiving
    def _on_readable(self) -> None:
        if self._fds is None:
            return
        try:
            data = os.read(self._fds[0], 4096)
        except OSError:  # EAGAIN, or EIO with no slave open (we hold one, so transient)
            return
        self.receive(data, self._loop.time())

    def receive(self, data: bytes, now: float) -> None:
        """Bytes that arrived on the line at loop time `now`."""
        if self._silence is not None:
            self._silence.cancel()
        self._silence = self._loop.call_at(now + self.line.t35, self._on_silence)
        if self._junk:
            return
        if not self._buffer:
            self._frame_start = now
        self._buffer += data
        while (frame := self._next_frame()) is not None:
            if not self._process(frame, self._frame_start):
                return
        if len(self._buffer) > MAX_ADU:
            self._drop_until_silence()

    def _next_frame(self) -> bytes | None:
        size = request_frame_length(self._buffer)
        if size is None or len(self._buffer) < size:
            return None
        frame = bytes(self._buffer[:size])
        del self._buffer[:size]
        return frame

    def _on_silence(self) -> None:
        self._silence = None
        if self._buffer and not self._junk:
            self._process(bytes(self._buffer), self._frame_start)
        self._buffer.clear()
        self._junk = False

    def _drop_until_silence(self) -> None:
        self.stats.errors += 1
        self._junk = True
        self._buffer.clear()

    # ------------------------------------------------------------ answering
    def _process(self, frame: bytes, start: float) -> bool:
        """Answer one frame; False when it was bad (the rest of the burst is dropped)."""
        try:
            unit, pdu = decode_adu(self.name, frame)
        except DeviceProtocolError:
            self._drop_until_silence()
            return False
        self.stats.requests += 1
        if self.wire.disconnected(unit):
            self._schedule(start, len(frame), None, WirePlan())
            return True
        plan = self.wire.plan(unit)
        reply = self._reply(plan, unit, pdu)
        self._schedule(start, len(frame), None if unit == 0 else reply, plan)
        return True

    def _reply(self, plan: WirePlan, unit: int, pdu: bytes) -> bytes | None:
        if not plan.reply:
            return None
        if plan.garbage_bytes:
            return self._rng.randbytes(plan.garbage_bytes)
        if plan.exception_code is not None:
            reply: bytes | None = encode_exception_pdu(pdu[0], plan.exception_code)
        else:
            reply = answer(self.responder, self.name, unit, pdu)
        if reply is None:
            return None
        adu = encode_adu(unit, reply)
        return adu[:-2] + bytes(b ^ 0xFF for b in adu[-2:]) if plan.corrupt else adu

    def _schedule(
        self, start: float, request_chars: int, reply: bytes | None, plan: WirePlan
    ) -> None:
        line = self.line
        begin = max(start, self._bus_free_at) if line.enabled else self._loop.time()
        request_end = begin + (line.wire_s(request_chars) if line.enabled else 0.0)
        if reply is None:
            self.stats.silent += 1
            self._bus_free_at = request_end + line.t35
            return
        self.stats.replies += 1
        reply_at = request_end + plan.delay_s
        if line.enabled:
            reply_at += line.t35 + line.turnaround_s
        parts = [reply[: len(reply) // 2], reply[len(reply) // 2 :]] if plan.split else [reply]
        for index, part in enumerate(parts):
            reply_at += SPLIT_GAP_S if index else 0.0
            reply_at += line.wire_s(len(part)) if line.enabled else 0.0
            self._outbox.send_at(reply_at, part)
        self._bus_free_at = reply_at + line.t35

    def _write(self, data: bytes) -> None:
        if self._fds is None:
            return
        try:
            written = os.write(self._fds[0], data)
        except OSError:
            written = 0
        if written < len(data):  # nobody drains the port: those bytes are lost on the line
            self.stats.errors += 1
