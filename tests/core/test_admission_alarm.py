"""The journal's admission limit: closing raises an alarm, reopening clears it."""

from __future__ import annotations

from controller.core.commands import ClearAlarm, RaiseAlarm
from controller.core.events import AdmissionCapacityChanged
from controller.core.lane import LaneCore


def test_admissions_closing_alarms_and_reopening_clears_the_alarm() -> None:
    core = LaneCore(new_id=iter(f"id-{i}" for i in range(10)).__next__)
    core.start(0.0)
    closed = core.handle(AdmissionCapacityChanged(1.0, admissions_allowed=False, reason="full"))
    assert RaiseAlarm("journal_admission_limit", "full") in closed
    reopened = core.handle(AdmissionCapacityChanged(2.0, admissions_allowed=True))
    assert ClearAlarm("journal_admission_limit") in reopened
    assert core.handle(AdmissionCapacityChanged(3.0, admissions_allowed=True)) == []
