"""A virtual-time event loop for simulations: nothing waits, the clock jumps.

Theory of operation: asyncio's base loop runs what is ready, then asks its selector to
wait for I/O until the next timer is due. A simulation has nothing outside the process
(in-memory transports only), so this loop has no selector: when nothing is ready, its
clock jumps to the next timer's own time (not now plus the difference, which would
gather rounding errors over a day), and an hour of a lane passes in the time its
callbacks take to run. This is what looptime does for the tests, without its real
`select` on every pass and its no-op passes before each jump (both there for sockets and
threads).

Timers are kept as (time, sequence, handle) tuples, compared in C, rather than as
TimerHandles, whose Python-level `__lt__` was a few per cent of a simulated day; timers
due at the same time run in the order they were set. A cancelled timer stays in the heap
until it reaches the top, or until cancelled ones are most of the heap, as in asyncio.
The pass itself follows asyncio's `BaseEventLoop._run_once` (3.11-3.13), without the
debug mode's slow-callback warnings.

What needs the outside world fails closed: sockets, pipes, subprocesses and signals
raise NotImplementedError as in asyncio's base loop, and so do threads (an executor's
work would finish at an arbitrary virtual time). A loop with nothing ready and no timer
would wait forever; it raises instead, naming the deadlock.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Callable
from contextvars import Context
from typing import NoReturn, TypeVarTuple

Ts = TypeVarTuple("Ts")
COMPACT_AT = 100  # cancelled timers before the heap is worth rebuilding without them


class VirtualTimeDeadlock(RuntimeError):
    """Every task waits and no timer is set: nothing can ever happen again."""


class VirtualTimeLoop(asyncio.BaseEventLoop):
    def __init__(self, start: float = 0.0) -> None:
        super().__init__()
        self._now = start
        self._timers: list[tuple[float, int, asyncio.TimerHandle]] = []
        self._order = itertools.count()
        self._cancelled_timers = 0

    def time(self) -> float:
        return self._now

    def call_at(
        self,
        when: float,
        callback: Callable[[*Ts], object],
        *args: *Ts,
        context: Context | None = None,
    ) -> asyncio.TimerHandle:
        self._check_closed()  # type: ignore[attr-defined]
        timer = asyncio.TimerHandle(when, callback, args, self, context)
        heapq.heappush(self._timers, (when, next(self._order), timer))
        timer._scheduled = True  # type: ignore[attr-defined]
        return timer

    def _timer_handle_cancelled(self, handle: asyncio.TimerHandle) -> None:
        if handle._scheduled:  # type: ignore[attr-defined]
            self._cancelled_timers += 1

    def _run_once(self) -> None:
        self._drop_cancelled()
        timers, ready = self._timers, self._ready  # type: ignore[attr-defined]
        if not ready and not self._stopping:  # type: ignore[attr-defined]
            if not timers:
                raise VirtualTimeDeadlock("virtual-time loop: nothing ready and no timer set")
            self._now = max(self._now, timers[0][0])
        while timers and timers[0][0] <= self._now:
            handle = heapq.heappop(timers)[2]
            handle._scheduled = False  # type: ignore[attr-defined]
            if handle.cancelled():
                self._cancelled_timers -= 1
            else:
                ready.append(handle)
        for _ in range(len(ready)):  # not those that these callbacks make ready
            handle = ready.popleft()
            if not handle._cancelled:
                handle._run()

    def _drop_cancelled(self) -> None:
        timers = self._timers
        if self._cancelled_timers > COMPACT_AT and 2 * self._cancelled_timers > len(timers):
            for _, _, handle in timers:
                if handle.cancelled():
                    handle._scheduled = False  # type: ignore[attr-defined]
            self._timers = [item for item in timers if not item[2].cancelled()]
            heapq.heapify(self._timers)
            self._cancelled_timers = 0
            return
        while timers and timers[0][2].cancelled():
            heapq.heappop(timers)[2]._scheduled = False  # type: ignore[attr-defined]
            self._cancelled_timers -= 1

    def _write_to_self(self) -> None:
        return None  # no other thread can be waiting to wake this loop

    def run_in_executor(
        self, executor: object, func: Callable[..., object], *args: object
    ) -> NoReturn:
        raise NotImplementedError("virtual-time loop: no threads (their time is not virtual)")

    def close(self) -> None:
        super().close()
        self._timers.clear()
