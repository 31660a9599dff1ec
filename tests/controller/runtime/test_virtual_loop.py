"""The simulation's virtual-time loop: the clock jumps to each timer's own time, nothing
outside the process is offered, and a loop that can never run again says so."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import pytest

from controller.runtime.virtual_loop import COMPACT_AT, VirtualTimeDeadlock, VirtualTimeLoop

T = TypeVar("T")


def run(make: Callable[[], Coroutine[Any, Any, T]], start: float = 0.0) -> T:
    loop = VirtualTimeLoop(start)
    try:
        return loop.run_until_complete(make())
    finally:
        loop.close()


def test_a_day_of_minutes_passes_at_once_and_ends_on_the_exact_second() -> None:
    async def day() -> list[float]:
        loop = asyncio.get_running_loop()
        seen: list[float] = []
        for _ in range(24 * 60):
            await asyncio.sleep(60.0)
            seen.append(loop.time())
        return seen

    seen = run(day, start=0.1)  # (a real loop would take the day)
    assert seen[-1] == 0.1 + 86_400.0  # each jump lands on its timer's own time
    assert seen[:2] == [60.1, 120.1]


def test_timers_fire_in_order_of_their_time_and_timeouts_are_virtual() -> None:
    async def race() -> tuple[list[str], float]:
        loop = asyncio.get_running_loop()
        fired: list[str] = []
        loop.call_later(2.0, fired.append, "late")
        loop.call_later(0.5, fired.append, "early")
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(3.0):
                await asyncio.Event().wait()
        return fired, loop.time()

    fired, now = run(race)
    assert fired == ["early", "late"]
    assert now == 3.0


def test_a_loop_with_nothing_to_run_ever_again_raises_instead_of_waiting() -> None:
    async def stuck() -> None:
        await asyncio.Event().wait()

    with pytest.raises(VirtualTimeDeadlock, match="nothing ready and no timer set"):
        run(stuck)


def test_threads_are_refused() -> None:
    async def offload() -> None:
        await asyncio.get_running_loop().run_in_executor(None, time.sleep, 0)

    with pytest.raises(NotImplementedError, match="no threads"):
        run(offload)


def test_a_timer_set_in_the_past_runs_next_and_the_clock_stays() -> None:
    async def late() -> tuple[float, float]:
        loop = asyncio.get_running_loop()
        await asyncio.sleep(10.0)
        done = loop.create_future()
        loop.call_at(4.0, done.set_result, loop.time())
        return await done, loop.time()

    assert run(late) == (10.0, 10.0)


def test_cancelled_timers_never_run_and_do_not_pile_up() -> None:
    async def churn() -> tuple[list[int], int]:
        loop = asyncio.get_running_loop()
        fired: list[int] = []
        for n in range(1_000):  # as every exchange's timeout does: set, then cancelled
            loop.call_later(5.0 + n, fired.append, n).cancel()
            await asyncio.sleep(0.001)
        loop.call_later(1.0, fired.append, -1)
        await asyncio.sleep(2.0)
        return fired, len(loop._timers)  # type: ignore[attr-defined]

    fired, left = run(churn)
    assert fired == [-1]
    assert left <= 2 * COMPACT_AT + 2
