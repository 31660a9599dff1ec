"""Serial adapters for the emulated serial devices: a pty, or an in-memory pipe.

Theory of operation: a serial device (scale or RFID interface) turns received bytes into
replies and may emit continuous output every `frame_period_s` of emulated time. The pty
adapter opens a pty pair, links its slave side at the configured path, reads the master
side with `loop.add_reader`, and writes at the line's pace: a pty ignores the baud rate,
so each write is scheduled at an absolute deadline, 10 bit times per byte (8N1) after the
line became free. Wire faults from the FaultBook apply per outgoing frame. The memory
adapter runs the same device over `devices.transport.memory.memory_pipe`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import tty
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Protocol, Self

from controller.errors import DeviceError
from devices.transport.base import ByteStream, MemoryHub
from devices.transport.memory import memory_pipe
from emulators.base import EmulatedClock
from emulators.faults import FaultBook, FaultKind

BITS_PER_BYTE = 10  # start + 8 data + stop


class SerialDevice(Protocol):
    frame_period_s: float

    @property
    def streaming(self) -> bool:
        """True while it may emit continuous output (a reader in answer mode never does:
        its ticker sleeps until a command arrives instead of waking 20 times a second)."""
        ...

    def receive(self, data: bytes, now: float = 0.0) -> list[bytes]: ...
    def continuous(self) -> bytes | None: ...


async def _until_kicked(kick: asyncio.Event) -> None:
    kick.clear()
    await kick.wait()


async def stream_frames(
    device: SerialDevice,
    clock: EmulatedClock,
    kick: asyncio.Event,
    send: Callable[[bytes], Awaitable[None]],
    line_busy: Callable[[], bool] = lambda: False,
) -> None:
    """A device's continuous output, one frame every `frame_period_s` of emulated time at
    absolute deadlines (no drift); asleep while it does not stream, until `kick`."""
    loop = asyncio.get_running_loop()
    period = device.frame_period_s / clock.time_scale
    deadline = loop.time()
    while True:
        if not device.streaming:
            await _until_kicked(kick)
            deadline = loop.time()
        deadline += period
        await asyncio.sleep(max(0.0, deadline - loop.time()))
        if line_busy():
            continue
        frame = device.continuous()
        if frame:
            await send(frame)


class FrameFaults:
    """Wire faults applied to one outgoing frame: the bytes to send, in parts."""

    def __init__(self, faults: FaultBook, seed: int = 0) -> None:
        self.faults = faults
        self._rng = random.Random(seed)  # noqa: S311 - garbage bytes

    def shape(self, frame: bytes, now: float) -> tuple[list[bytes], float]:
        """(parts to write, extra delay in s); no parts for a dropped frame."""
        parts, delay = [frame], 0.0
        for spec in self.faults.on_frame(now):
            kind = spec.kind
            if kind in (FaultKind.NO_REPLY, FaultKind.DISCONNECT):
                return [], 0.0
            if kind == FaultKind.LATE_REPLY:
                delay += spec.delay_s
            elif kind == FaultKind.CORRUPT_CHECKSUM:
                parts = [frame[:-1] + bytes([frame[-1] ^ 0x5A])]
            elif kind == FaultKind.GARBAGE:
                parts = [self._rng.randbytes(spec.garbage_bytes), *parts]
            elif kind == FaultKind.SPLIT_FRAMES and len(frame) > 1:
                half = len(frame) // 2
                parts = [frame[:half], frame[half:]]
        return parts, delay


class SerialPtyServer:
    def __init__(
        self,
        path: str | Path,
        device: SerialDevice,
        clock: EmulatedClock,
        *,
        baud: int = 9600,
        faults: FaultBook | None = None,
        paced: bool = True,
    ) -> None:
        self.path, self.device, self.clock, self.baud = Path(path), device, clock, baud
        self.faults = faults or FaultBook()
        self.paced = paced
        self._shaper = FrameFaults(self.faults)
        self._fds: tuple[int, int] | None = None
        self._line_free_at = 0.0
        self._ticker: asyncio.Task[None] | None = None
        self._kick = asyncio.Event()
        self._pending: set[asyncio.TimerHandle] = set()
        self.bytes_in = self.bytes_out = 0

    async def __aenter__(self) -> Self:
        loop = asyncio.get_running_loop()
        master, slave = os.openpty()
        tty.setraw(slave)
        os.set_blocking(master, False)
        self._fds = (master, slave)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.path.is_symlink():  # a stale link from an earlier run; never a real file
            self.path.unlink()
        self.path.symlink_to(os.ttyname(slave))
        loop.add_reader(master, self._readable)
        if self.device.frame_period_s > 0:
            self._ticker = loop.create_task(self._continuous(), name=f"serial:{self.path}")
        return self

    async def __aexit__(self, *_exc: object) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            await asyncio.gather(self._ticker, return_exceptions=True)
        for handle in self._pending:
            handle.cancel()
        if self._fds is not None:
            asyncio.get_running_loop().remove_reader(self._fds[0])
            for fd in self._fds:
                os.close(fd)
            self._fds = None
        with contextlib.suppress(FileNotFoundError):
            if self.path.is_symlink():
                self.path.unlink()

    def _readable(self) -> None:
        if self._fds is None:
            return
        try:
            data = os.read(self._fds[0], 4096)
        except (BlockingIOError, OSError):
            return
        self.bytes_in += len(data)
        for reply in self.device.receive(data, self.clock.now()):
            self._send(reply)
        self._kick.set()  # a command may have started the device streaming

    async def _continuous(self) -> None:
        loop = asyncio.get_running_loop()

        async def send(frame: bytes) -> None:
            self._send(frame)

        # while the line is still busy an indicator skips a frame, it never queues one
        await stream_frames(
            self.device, self.clock, self._kick, send, lambda: self._line_free_at > loop.time()
        )

    def _send(self, frame: bytes) -> None:
        loop = asyncio.get_running_loop()
        parts, delay = self._shaper.shape(frame, self.clock.now())
        at = max(loop.time() + delay, self._line_free_at)
        for index, part in enumerate(parts):
            at += 0.005 * index  # a split frame arrives in two reads (under the 15 ms sync gap)
            at += len(part) * BITS_PER_BYTE / self.baud if self.paced else 0.0
            # the part is delivered when its last byte has crossed the line
            self._pending.add(loop.call_at(at, self._write, part))
        self._line_free_at = at

    def _write(self, data: bytes) -> None:
        if self._fds is None:
            return
        with contextlib.suppress(BlockingIOError, OSError):
            os.write(self._fds[0], data)
            self.bytes_out += len(data)
        now = asyncio.get_running_loop().time()
        self._pending = {h for h in self._pending if h.when() > now}  # keep what is still due


class SerialMemoryServer:
    """The same device over an in-memory pipe registered as `memory://name`."""

    def __init__(
        self,
        hub: MemoryHub,
        name: str,
        device: SerialDevice,
        clock: EmulatedClock,
        faults: FaultBook | None = None,
    ) -> None:
        self.hub, self.name, self.device, self.clock = hub, name, device, clock
        self.faults = faults or FaultBook()
        self._shaper = FrameFaults(self.faults)
        self._end: ByteStream | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._kick = asyncio.Event()

    async def __aenter__(self) -> Self:
        device_end, controller_end = memory_pipe(self.name)
        self.hub.serial[self.name] = controller_end
        self._end = device_end
        loop = asyncio.get_running_loop()
        self._tasks.append(loop.create_task(self._serve(device_end)))
        if self.device.frame_period_s > 0:
            self._tasks.append(loop.create_task(self._continuous(device_end)))
        return self

    async def __aexit__(self, *_exc: object) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self.hub.serial.pop(self.name, None)
        if self._end is not None:
            await self._end.close()

    async def _serve(self, end: ByteStream) -> None:
        with contextlib.suppress(DeviceError):
            while True:
                data = await end.read()
                for reply in self.device.receive(data, self.clock.now()):
                    await self._send(end, reply)
                self._kick.set()  # a command may have started the device streaming

    async def _continuous(self, end: ByteStream) -> None:
        async def send(frame: bytes) -> None:
            await self._send(end, frame)

        with contextlib.suppress(DeviceError):
            await stream_frames(self.device, self.clock, self._kick, send)

    async def _send(self, end: ByteStream, frame: bytes) -> None:
        parts, delay = self._shaper.shape(frame, self.clock.now())
        if delay:
            await asyncio.sleep(delay / self.clock.time_scale)
        for part in parts:
            await end.write(part)
