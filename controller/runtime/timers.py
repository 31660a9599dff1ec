"""Core timers on the event loop.

The core asks for timers as data (`StartTimer(id, deadline)`, the id a `TimerId`); this
service arms them with `loop.call_at` on the loop's own clock, so a virtual-time loop
fast-forwards them, and delivers `TimerExpired` through the callback, keyed by the id
itself (nothing is formatted or parsed). Re-arming an id replaces the old handle;
the core ignores expiries it no longer expects, so a race with a cancel is harmless.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from controller.core.timer_ids import TimerId


class TimerService:
    def __init__(self, expired: Callable[[TimerId, float], None]) -> None:
        self._loop = asyncio.get_running_loop()
        self._expired = expired
        self._handles: dict[TimerId, asyncio.TimerHandle] = {}

    def start(self, timer_id: TimerId, deadline: float) -> None:
        self.cancel(timer_id)
        self._handles[timer_id] = self._loop.call_at(deadline, self._fire, timer_id, deadline)

    def cancel(self, timer_id: TimerId) -> None:
        handle = self._handles.pop(timer_id, None)
        if handle is not None:
            handle.cancel()

    def cancel_all(self) -> None:
        for handle in self._handles.values():
            handle.cancel()
        self._handles.clear()

    def _fire(self, timer_id: TimerId, deadline: float) -> None:
        self._handles.pop(timer_id, None)
        self._expired(timer_id, max(deadline, self._loop.time()))

    @property
    def armed(self) -> frozenset[TimerId]:
        return frozenset(self._handles)
