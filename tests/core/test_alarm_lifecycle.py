"""Alarms clear when their cause ends, and an officer can acknowledge one. A field user
found `emergency` and `vehicle_stopped_under_entry_arm` still listed with the lane idle,
and no way to acknowledge either."""

from __future__ import annotations

from controller.core.commands import ClearAlarm, PublishEvent
from controller.core.departure import GONE_UNSEEN_S
from controller.core.events import OperatorCommanded
from controller.core.types import LaneState, OperatorAction, Role
from controller.core.workflow import STOPPED_UNDER_ARM_S
from simulation.scripted import ScriptedLane
from tests.core.test_gone_unseen import released
from tests.core.test_steps import booted, events, state
from tests.core.test_stopped_under_arm import ALARM as STOPPED
from tests.core.test_stopped_under_arm import under_the_entry_arm

A = OperatorAction


def officer(lane: ScriptedLane, action: OperatorAction, **args: str) -> None:
    lane.feed(
        OperatorCommanded(lane.now, action, "ofc", Role.OFFICER, True, reason="seen", args=args)
    )


def ack(lane: ScriptedLane, code: str, role: Role = Role.OFFICER) -> list[object]:
    cmd = OperatorCommanded(lane.now, A.ACK, "ofc", role, True, reason="seen", args={"alarm": code})
    return list(lane.feed(cmd))


def cleared(lane: ScriptedLane, code: str) -> bool:
    return ClearAlarm(code) in lane.commands


def refusal(out: list[object]) -> str:
    found = [c for c in out if isinstance(c, PublishEvent) and c.type == "operator_refused"]
    return str(found[0].data["refused"]) if found else ""


def test_the_emergency_alarm_clears_once_the_emergency_is_ended_and_reset() -> None:
    lane = booted()
    officer(lane, A.MODE_EMERGENCY)
    officer(lane, A.MODE_AUTO)  # ends the emergency: a latched fault, still alarmed
    assert state(lane) == LaneState.FAULT
    assert not cleared(lane, "emergency")
    officer(lane, A.RESET)
    assert state(lane) != LaneState.FAULT
    assert cleared(lane, "emergency")
    assert "emergency" not in lane.core.standing


def test_a_stop_under_the_entry_arm_clears_when_the_arm_is_clear() -> None:
    lane = under_the_entry_arm()
    lane.run_for(STOPPED_UNDER_ARM_S + 1)
    assert STOPPED in lane.core.standing
    lane.set_inputs(entry_arm_loop=False, beam_in=True)  # the driver moves on
    assert cleared(lane, STOPPED)
    assert STOPPED not in lane.core.standing
    assert events(lane, "alarm_cleared")[-1].data["code"] == STOPPED


def test_an_active_alarm_acknowledged_stays_listed_until_its_cause_ends() -> None:
    lane = under_the_entry_arm()
    lane.run_for(STOPPED_UNDER_ARM_S + 1)
    out = ack(lane, STOPPED)
    assert not refusal(out)
    assert lane.core.standing[STOPPED].acknowledged
    assert not cleared(lane, STOPPED)
    assert events(lane, "alarm_acknowledged")[-1].data["code"] == STOPPED
    lane.set_inputs(entry_arm_loop=False, beam_in=True)
    assert STOPPED not in lane.core.standing


def test_an_incident_is_listed_until_an_officer_acknowledges_it() -> None:
    lane = released()
    lane.load_kg = 0.0  # gone without passing the exit's sensors
    lane.run_for(GONE_UNSEEN_S * 1.5)
    assert lane.run_until(lambda: state(lane) == LaneState.IDLE, 60)
    assert "departure_not_seen" in lane.core.standing  # nobody has seen it yet
    ack(lane, "departure_not_seen")
    assert "departure_not_seen" not in lane.core.standing
    assert cleared(lane, "departure_not_seen")
    assert events(lane, "alarm_cleared")[-1].data["acknowledged_by"] == "ofc"


def test_acknowledging_an_alarm_not_standing_is_refused_with_its_name() -> None:
    lane = booted()
    out = ack(lane, "tailgating")
    assert refusal(out) == "alarm: no alarm 'tailgating' standing on lane L01 (none)"
    assert events(lane, "operator_refused")[-1].data["action"] == "ack"


def test_only_an_officer_acknowledges() -> None:
    lane = under_the_entry_arm()
    lane.run_for(STOPPED_UNDER_ARM_S + 1)
    assert refusal(ack(lane, STOPPED, Role.TECHNICIAN)) == "ack needs an officer"
    assert not lane.core.standing[STOPPED].acknowledged
