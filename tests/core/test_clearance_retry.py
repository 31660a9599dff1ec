"""No clearance answer in time: the entry stays closed, one alarm, and the request is asked
again (a new request id) until an answer comes; a late answer to the old request is
ignored. Before, the vehicle waited at the stop line for good (a simulated lane stalled)."""

from __future__ import annotations

from controller.core.commands import ClearAlarm, RaiseAlarm, RequestClearance
from controller.core.events import ClearanceDecided, InputsChanged, TimerExpired
from controller.core.lane import LaneCore
from controller.core.timer_ids import CLEARANCE, CLEARANCE_RETRY, TimerId
from controller.core.types import ApproachStage, Decision
from tests.core.test_approach_rearm import idle_with_a_truck_identified
from tests.core.test_boot_open_arms import QUIET as AT_STOP_LINE


def expire(core: LaneCore, timer_id: TimerId) -> list[object]:
    return list(core.handle(TimerExpired(core.timers[timer_id], timer_id)))


def requested(commands: list[object]) -> list[str]:
    return [c.request_id for c in commands if isinstance(c, RequestClearance)]


def test_a_timed_out_request_is_asked_again_until_answered() -> None:
    core = idle_with_a_truck_identified()
    assert core.approach is not None
    first = core.approach.request_id
    out = expire(core, CLEARANCE)
    stages = [core.approach.stage]
    out += expire(core, CLEARANCE_RETRY)
    out += expire(core, CLEARANCE)
    out += expire(core, CLEARANCE_RETRY)
    retries = requested(out)
    assert len(retries) == 2
    assert first not in retries
    assert len(set(retries)) == 2
    assert sum(isinstance(c, RaiseAlarm) and c.code == "clearance_timeout" for c in out) == 1
    late = core.handle(ClearanceDecided(40.0, str(first), Decision.GRANT))
    stages.append(core.approach.stage)  # the old answer changes nothing
    assert stages == [ApproachStage.TIMED_OUT, ApproachStage.REQUESTED]
    assert not any(isinstance(c, ClearAlarm) for c in late)
    answered = core.handle(ClearanceDecided(41.0, retries[-1], Decision.GRANT))
    assert core.approach.stage == ApproachStage.GRANTED
    assert ClearAlarm("clearance_timeout") in answered


def test_a_vehicle_gone_before_the_retry_is_not_asked_for() -> None:
    core = idle_with_a_truck_identified()
    expire(core, CLEARANCE)
    gone = core.handle(InputsChanged(20.0, {**AT_STOP_LINE, "approach_loop": False}))
    assert core.approach is None  # it reversed away: the approach loop cleared
    assert ClearAlarm("clearance_timeout") in gone
    assert requested(expire(core, CLEARANCE_RETRY)) == []
