"""The runtime end to end in virtual time: world -> emulators -> drivers -> core -> back."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from controller.core.types import LaneState
from emulators.faults import FaultKind, FaultSpec
from emulators.world import Behaviour
from tests.controller.runtime.harness import LAMP_SENSE, EmulatedLane


async def wait_for(condition: Callable[[], bool], limit_s: float, lane: EmulatedLane) -> None:
    """Wait until `condition` holds, re-checked after every runtime step (the scale alone
    reports ten times a second), for at most `limit_s` of loop time."""
    try:
        async with asyncio.timeout(limit_s):
            await lane.stepped.wait_until(condition)
    except TimeoutError:
        snapshot = lane.runtime.snapshot()
        events = lane.journal.events.get("L01", [])[-15:]
        raise AssertionError(f"timed out: {snapshot}\n{events}") from None


def state(lane: EmulatedLane) -> LaneState | None:
    core = lane.runtime.core
    return None if core is None else core.state


@pytest.mark.looptime
async def test_trucks_cross_the_lane_and_are_committed_before_the_exit_opens() -> None:
    lane = EmulatedLane()
    task = asyncio.create_task(lane.run())
    try:
        await wait_for(lambda: state(lane) == LaneState.IDLE, 10, lane)
        trucks = [lane.world.spawn(lane.world.make_truck()) for _ in range(3)]
        await wait_for(lambda: len(lane.world.departed) == 3, 300, lane)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    tags = {r.tag for r in lane.journal.transactions.values()}
    assert tags == {t.tag_hex for t in trucks}
    weights = {r.tag: r.gross_kg for r in lane.journal.transactions.values()}
    assert all(weights[t.tag_hex] == t.gross_kg for t in trucks)
    assert lane.world.oracle.incidents == []
    # a stopped runtime leaves the lights red (the I/O module's coils)
    assert lane.io_model.output(0)
    assert lane.io_model.output(2)
    assert not lane.io_model.output(1)
    assert not lane.io_model.output(3)


@pytest.mark.looptime
async def test_a_tailgater_is_caught_and_held() -> None:
    lane = EmulatedLane(seed=7)
    task = asyncio.create_task(lane.run())
    try:
        await wait_for(lambda: state(lane) == LaneState.IDLE, 10, lane)
        lane.world.spawn(lane.world.make_truck())
        lane.world.spawn(lane.world.make_truck(Behaviour.TAILGATE))
        await wait_for(lambda: state(lane) == LaneState.HOLD, 120, lane)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert "tailgating" in lane.runtime.alarms
    assert not lane.world.oracle.by("controller")
    assert lane.world.oracle.by("driver")


@pytest.mark.looptime
async def test_red_lamp_supervision_over_the_wire() -> None:
    """With `*_red_ok` wired, the I/O module's lamp current senses follow the red lamps
    through a normal crossing (no fault); a blown exit lamp (its sense stuck off) faults
    the lane within field_check_ms and holds nobody on the deck."""
    lane = EmulatedLane(lamp_sense=True)
    task = asyncio.create_task(lane.run())
    try:
        await wait_for(lambda: state(lane) == LaneState.IDLE, 10, lane)
        lane.world.spawn(lane.world.make_truck())
        await wait_for(lambda: lane.world.departed_count == 1, 120, lane)
        await wait_for(lambda: state(lane) == LaneState.IDLE, 30, lane)
        blown = FaultSpec(kind=FaultKind.SENSOR_STUCK_OFF, channel=LAMP_SENSE["exit_red_ok"])
        lane.io_model.faults.inject(blown, lane.io_model.now)
        blown_at = asyncio.get_running_loop().time()
        await wait_for(lambda: state(lane) == LaneState.FAULT, 5, lane)
        waited = asyncio.get_running_loop().time() - blown_at
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert lane.runtime.core is not None
    assert lane.runtime.core.latched_fault == "S2: exit red lamp not lit within field_check_ms"
    assert 1.0 <= waited <= 1.0 + 0.2  # field_check_s, plus one I/O poll or two
    assert len(lane.journal.transactions) == 1
    assert not lane.world.oracle.by("controller")
