"""The runtime's timer service keys the core's timers by their TimerId, on the loop clock."""

from __future__ import annotations

import asyncio

import pytest

from controller.core.timer_ids import STALL, TimerId, TimerKind, at
from controller.core.types import Side
from controller.runtime.timers import TimerService


@pytest.mark.looptime
async def test_timers_fire_by_id_and_a_rearm_or_cancel_replaces_the_old_one() -> None:
    fired: list[tuple[TimerId, float]] = []
    loop = asyncio.get_running_loop()
    service = TimerService(lambda timer, at_: fired.append((timer, at_)))
    start = loop.time()
    entry, exit_ = at(TimerKind.STROKE, Side.ENTRY), at(TimerKind.STROKE, Side.EXIT)
    service.start(entry, start + 5.0)
    service.start(exit_, start + 3.0)
    service.start(STALL, start + 4.0)
    service.start(entry, start + 6.0)  # re-armed: one timer per id
    service.cancel(STALL)
    assert service.armed == frozenset({entry, exit_})
    await asyncio.sleep(10.0)
    assert fired == [(exit_, start + 3.0), (entry, start + 6.0)]
    assert service.armed == frozenset()
