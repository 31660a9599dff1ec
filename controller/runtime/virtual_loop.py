"""A virtual-time event loop for simulations: nothing waits, the clock jumps.

Theory of operation: asyncio's base loop runs what is ready, then asks its selector to
wait for I/O until the next timer is due. A simulation has nothing outside the process
(in-memory transports only), so there is no selector here: the wait is a jump of the
loop's clock to that timer, and an hour of a lane passes in the time its callbacks take
to run. This is what looptime does for the tests, without its real `select` on every
pass and its no-op passes before each jump (both there for sockets and threads): about
a tenth of a simulation's time.

What needs the outside world fails closed: sockets, pipes, subprocesses and signals
raise NotImplementedError as in asyncio's base loop, and so do threads (an executor's
work would finish at an arbitrary virtual time). A loop with nothing ready and nothing
scheduled would wait forever; it raises instead, naming the deadlock.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, NoReturn


class VirtualTimeDeadlock(RuntimeError):
    """Every task waits and no timer is scheduled: nothing can ever happen again."""


class _Jump:
    """The selector's place: a wait until the next timer is a jump of the clock to it."""

    def __init__(self, loop: VirtualTimeLoop) -> None:
        self._loop = loop

    def select(self, timeout: float | None) -> list[Any]:
        if timeout is None:
            raise VirtualTimeDeadlock("virtual-time loop: nothing ready and no timer scheduled")
        if timeout > 0:
            self._loop.jump(timeout)
        return []

    def close(self) -> None:
        return None


class VirtualTimeLoop(asyncio.BaseEventLoop):
    def __init__(self, start: float = 0.0) -> None:
        super().__init__()
        self._now = start
        self._selector = _Jump(self)

    def time(self) -> float:
        return self._now

    def jump(self, at_most_s: float) -> None:
        """To the next timer's own time (not now + the difference, which would gather
        rounding errors over a day), or by `at_most_s` if that comes first."""
        scheduled: list[asyncio.TimerHandle] = self._scheduled  # type: ignore[attr-defined]
        due = scheduled[0].when() if scheduled else None
        if due is not None and due - self._now <= at_most_s:
            self._now = max(self._now, due)
        else:
            self._now += at_most_s

    def _process_events(self, event_list: list[Any]) -> None:
        return None  # no I/O: nothing ever becomes ready from outside

    def _write_to_self(self) -> None:
        return None  # no other thread can be waiting to wake this loop

    def run_in_executor(
        self, executor: object, func: Callable[..., object], *args: object
    ) -> NoReturn:
        raise NotImplementedError("virtual-time loop: no threads (their time is not virtual)")
