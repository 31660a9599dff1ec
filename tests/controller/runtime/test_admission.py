"""A journal past its admission limit: the runtime tells the core once per change, no
vehicle is admitted meanwhile, and admissions reopen by themselves once there is room."""

from __future__ import annotations

import asyncio

import pytest

from controller.core.events import AdmissionCapacityChanged, Event
from controller.core.types import ApproachStage, LaneState
from tests.controller.runtime.harness import EmulatedLane
from tests.controller.runtime.test_lane_runtime import state, wait_for


def granted_but_waiting(lane: EmulatedLane) -> bool:
    core = lane.runtime.core
    return (
        core is not None
        and core.approach is not None
        and core.approach.stage == ApproachStage.GRANTED
    )


@pytest.mark.looptime
async def test_a_full_journal_admits_no_vehicle_until_it_has_room() -> None:
    lane = EmulatedLane()
    told: list[bool] = []
    feed = lane.runtime.feed

    def spy(event: Event) -> object:
        if isinstance(event, AdmissionCapacityChanged):
            told.append(event.admissions_allowed)
        return feed(event)

    lane.runtime.feed = spy  # type: ignore[method-assign,assignment]
    lane.journal.full = True  # full from the start: the first check closes admissions
    task = asyncio.create_task(lane.run())
    try:
        await wait_for(lambda: state(lane) == LaneState.IDLE, 10, lane)
        first = lane.world.spawn(lane.world.make_truck())
        await wait_for(lambda: granted_but_waiting(lane), 60, lane)
        assert lane.runtime.core is not None
        assert lane.runtime.core.deck is None  # granted, yet not admitted
        assert "journal_admission_limit" in lane.runtime.alarms
        lane.journal.full = False  # retention made room; nothing is being written
        await wait_for(lambda: len(lane.world.departed) == 1, 300, lane)
        lane.journal.full = True  # now full again: seen after the next write
        lane.world.spawn(lane.world.make_truck())
        await wait_for(lambda: granted_but_waiting(lane), 60, lane)
        assert lane.runtime.core.deck is None
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert told == [False, True, False]  # once per change, never repeated
    changes = [d["allowed"] for t, d in lane.journal.events["L01"] if t == "admissions_changed"]
    assert changes == [False, True, False]
    assert {r.tag for r in lane.journal.transactions.values()} == {first.tag_hex}
    assert lane.world.oracle.incidents == []
