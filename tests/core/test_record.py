"""The lane's state is one record: no behaviour keeps state of its own on the core."""

from __future__ import annotations

from controller.core.events import OperatorCommanded, TimerExpired
from controller.core.lane import LaneCore
from controller.core.record import LaneRecord
from controller.core.timer_ids import STALL
from controller.core.types import LaneState, OperatorAction, Role
from tests.core.test_table import lane_in

COLLABORATORS = {"params", "new_id", "interlock", "image"}


def test_the_core_holds_its_collaborators_and_one_record_only() -> None:
    core = lane_in(LaneState.IDLE)
    maintenance = OperatorAction.MODE_MAINTENANCE
    core.handle(OperatorCommanded(11.0, maintenance, "tech", Role.TECHNICIAN, True))
    core.handle(TimerExpired(12.0, STALL))
    assert set(vars(core)) == COLLABORATORS | {"lane"}
    assert isinstance(core.lane, LaneRecord)


def test_what_others_read_is_the_record() -> None:
    core = LaneCore()
    core.lane.state = LaneState.HOLD
    core.lane.latched_fault = "S8: test"
    assert (core.state, core.latched_fault) == (LaneState.HOLD, "S8: test")
    assert core.timers is core.lane.timers
    assert core.standing is core.lane.standing
