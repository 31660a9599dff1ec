"""What the maintenance socket's caller is answered and shown, through the gateway: a mode
change deferred past a vehicle in process is accepted as pending and shown in status;
each alarm is shown with its text, since when and whether it is acknowledged, and an
officer acknowledges one."""

from __future__ import annotations

import asyncio

import pytest

from controller.core.types import LaneState, OperatorAction, Role
from controller.maintenance.server import Caller, Operation
from controller.runtime.gateway import Gateway
from tests.controller.runtime.harness import EmulatedLane
from tests.controller.runtime.test_lane_runtime import state, wait_for

TECHNICIAN = Caller(pid=1, uid=1000, user="tech", role=Role.TECHNICIAN)
OFFICER = Caller(pid=2, uid=1001, user="ofc", role=Role.OFFICER)
WALL = 1_800_000_000.0  # 2027-01-15T08:00:00Z


@pytest.mark.looptime
async def test_maintenance_asked_while_weighing_is_answered_pending_and_shown() -> None:
    lane = EmulatedLane()
    gateway = Gateway([lane.runtime])
    task = asyncio.create_task(lane.run())
    try:
        await wait_for(lambda: state(lane) == LaneState.IDLE, 10, lane)
        lane.world.spawn(lane.world.make_truck())
        await wait_for(lambda: state(lane) == LaneState.WEIGHING, 120, lane)
        answer = gateway.operate(Operation("L01", OperatorAction.MODE_MAINTENANCE), TECHNICIAN)
        assert answer["accepted"] is True
        assert answer["pending"] == "maintenance after the current vehicle"
        assert lane.runtime.snapshot()["pending_mode"] == "maintenance"
        await wait_for(lambda: state(lane) == LaneState.MAINTENANCE, 120, lane)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    snapshot = lane.runtime.snapshot()
    assert snapshot["pending_mode"] is None
    assert snapshot["mode"] == "maintenance"
    assert len(lane.journal.transactions) == 1  # the vehicle finished before


@pytest.mark.looptime
async def test_status_shows_each_alarm_and_an_officer_acknowledges_it() -> None:
    lane = EmulatedLane()
    lane.runtime.wall_clock = lambda: WALL
    gateway = Gateway([lane.runtime])
    task = asyncio.create_task(lane.run())
    try:
        await wait_for(lambda: state(lane) == LaneState.IDLE, 10, lane)
        emergency = Operation("L01", OperatorAction.MODE_EMERGENCY, reason="drill")
        assert gateway.operate(emergency, OFFICER)["accepted"] is True
        alarms = lane.runtime.snapshot()["alarms"]
        assert alarms == {
            "emergency": {
                "text": "emergency declared by ofc: drill",
                "since": "2027-01-15T08:00:00.000Z",
                "acknowledged": False,
            }
        }
        seen = Operation("L01", OperatorAction.ACK, reason="on it", args={"alarm": "emergency"})
        assert gateway.operate(seen, OFFICER)["accepted"] is True
        alarms = lane.runtime.snapshot()["alarms"]
        assert alarms["emergency"]["acknowledged"] is True  # type: ignore[index]
        wrong = Operation("L01", OperatorAction.ACK, reason="on it", args={"alarm": "nope"})
        answer = gateway.operate(wrong, OFFICER)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert answer == {
        "accepted": False,
        "refused": "alarm: no alarm 'nope' standing on lane L01 (emergency)",
    }
