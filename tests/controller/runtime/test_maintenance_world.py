"""A technician in maintenance through the gateway, the full stack against the emulated
world and its safety oracle (issue 17, items 1, 2 and 5): the oracle, which trusts only
what the devices physically did, must find no controller-caused incident."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import pytest

from controller.core.types import LaneState, OperatorAction, Role, Side
from controller.maintenance.server import Caller, Operation
from controller.runtime.gateway import Gateway
from emulators.world import Phase
from tests.controller.runtime.harness import OUTPUTS, EmulatedLane
from tests.controller.runtime.test_lane_runtime import state, wait_for

A = OperatorAction
TECHNICIAN = Caller(pid=1, uid=1000, user="tech.jo", role=Role.TECHNICIAN)


class Technician:
    def __init__(self, lane: EmulatedLane) -> None:
        self.lane = lane
        self.gateway = Gateway([lane.runtime])

    def __call__(self, action: OperatorAction, side: Side | None = None) -> dict[str, object]:
        return self.gateway.operate(Operation("L01", action, side), TECHNICIAN)

    async def show_entry_green(self) -> None:
        """Open the entry arm, wait for it to report fully open, show green."""
        assert self(A.BARRIER_OPEN, Side.ENTRY)["accepted"]
        barrier = self.lane.barriers["entry"]
        await self.until(lambda: barrier.position >= 100, 10)
        assert self(A.LIGHT_GREEN, Side.ENTRY)["accepted"]
        await self.until(lambda: self.lane.io_model.output(OUTPUTS["entry_green"]), 2)

    async def until(self, condition: Callable[[], bool], limit_s: float) -> None:
        await wait_for(condition, limit_s, self.lane)


@asynccontextmanager
async def in_maintenance() -> AsyncIterator[Technician]:
    lane = EmulatedLane()
    task = asyncio.create_task(lane.run())
    try:
        await wait_for(lambda: state(lane) == LaneState.IDLE, 10, lane)
        technician = Technician(lane)
        assert technician(A.MODE_MAINTENANCE)["state"] == "maintenance"
        yield technician
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


@pytest.mark.looptime
async def test_a_close_under_a_manual_green_never_leaves_green_over_a_moving_arm() -> None:
    async with in_maintenance() as technician:
        lane = technician.lane
        await technician.show_entry_green()
        assert technician(A.BARRIER_CLOSE, Side.ENTRY)["accepted"]
        await technician.until(lambda: lane.barriers["entry"].position <= 0, 10)
        assert not lane.world.oracle.by("controller")  # entry_green_arm_not_open, before
        again = technician(A.BARRIER_CLOSE, Side.ENTRY)
        await asyncio.sleep(10.0)  # beyond field_check_ms and stroke_timeout_s
        assert state(lane) == LaneState.MAINTENANCE
    assert again == {
        "accepted": True,
        "noop": "entry barrier already closed",
        "state": "maintenance",
    }
    assert not lane.io_model.output(OUTPUTS["entry_green"])
    assert not lane.world.oracle.by("controller")


@pytest.mark.looptime
async def test_a_manual_green_lets_one_truck_onto_the_deck_not_the_one_behind() -> None:
    async with in_maintenance() as technician:
        lane = technician.lane
        await technician.show_entry_green()
        first = lane.world.spawn(lane.world.make_truck())
        second = lane.world.spawn(lane.world.make_truck())
        await technician.until(lambda: first.phase == Phase.ON_DECK, 120)
        await asyncio.sleep(30.0)  # the second truck waits at the stop line, red
        assert not lane.world.oracle.by("controller")  # two_admitted_on_deck, before
        assert second.phase == Phase.AT_STOP
        assert "deck" in str(technician(A.LIGHT_GREEN, Side.ENTRY)["refused"])
        assert technician(A.MODE_AUTO)["state"] == "hold"  # an unknown vehicle on the deck
    assert not lane.world.oracle.by("controller")
    assert not lane.world.oracle.by("driver")
