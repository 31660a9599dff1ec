"""Condition alarms (data_stale, lane_held) are raised once while their condition lasts
and cleared when it is over: an I/O link that drops every half second is one alarm, not
forty, and the operator's list of standing alarms empties when the lane recovers. The
safety reaction itself (DEGRADED, lights red) still happens at every loss."""

from __future__ import annotations

from collections.abc import Sequence

from controller.core.base import ALARM_SETTLE_S
from controller.core.commands import ClearAlarm, RaiseAlarm
from controller.core.events import DeviceHealthChanged, TimerExpired
from controller.core.lane import LaneCore
from controller.core.timer_ids import TimerKind
from controller.core.types import Device, LaneState, OperatorAction
from tests.core.test_boot_open_arms import QUIET, booted_with_open_arms
from tests.core.test_committed_hold import held_committed_vehicle, officer


def raised(commands: Sequence[object], code: str) -> int:
    return sum(isinstance(c, RaiseAlarm) and c.code == code for c in commands)


def cleared(commands: Sequence[object], code: str) -> int:
    return sum(isinstance(c, ClearAlarm) and c.code == code for c in commands)


def fire_due_timers(core: LaneCore, now: float) -> list[object]:
    """The alarm timers due by `now` (the test drives no barriers: their stroke timers are
    left alone)."""
    out: list[object] = []
    for timer_id, deadline in sorted(core.timers.items(), key=lambda t: t[1]):
        if deadline <= now and timer_id.kind == TimerKind.SETTLE:
            out += core.handle(TimerExpired(deadline, timer_id))
    return out


def flap(core: LaneCore, start: float, times: int) -> tuple[list[object], list[LaneState]]:
    """The I/O module lost and back every half second."""
    out: list[object] = []
    states = []
    for i in range(times):
        now = start + i
        out += core.handle(DeviceHealthChanged(now, Device.IO, healthy=False, reason="late"))
        states.append(core.state)
        out += core.handle(DeviceHealthChanged(now + 0.5, Device.IO, healthy=True))
        out += fire_due_timers(core, now + 0.5)
    return out, states


def test_a_flapping_link_is_one_data_stale_alarm_cleared_once_it_settles() -> None:
    core, _ = booted_with_open_arms(0.1, {**QUIET, "approach_loop": False})
    out, states = flap(core, 1.0, 10)
    assert states == [LaneState.DEGRADED] * 10  # every loss still turns the lane red
    assert raised(out, "data_stale") == 1
    assert cleared(out, "data_stale") == 0
    assert "data_stale" in core.conditions
    early = fire_due_timers(core, 10.5 + ALARM_SETTLE_S * 0.9)
    assert cleared(early, "data_stale") == 0
    settled = fire_due_timers(core, 10.5 + ALARM_SETTLE_S)
    assert cleared(settled, "data_stale") == 1
    assert "data_stale" not in core.conditions
    again, _ = flap(core, 30.0, 1)  # a new loss after it settled is a new alarm
    assert raised(again, "data_stale") == 1


def test_a_device_still_stale_keeps_its_alarm_standing() -> None:
    core, _ = booted_with_open_arms(0.1, {**QUIET, "approach_loop": False})
    core.handle(DeviceHealthChanged(1.0, Device.IO, healthy=False, reason="silent"))
    out = fire_due_timers(core, 1.0 + ALARM_SETTLE_S * 3)
    assert cleared(out, "data_stale") == 0
    assert "data_stale" in core.conditions


def test_a_hold_interrupted_by_data_losses_is_one_lane_held_alarm_until_released() -> None:
    core = held_committed_vehicle()
    assert "lane_held" in core.conditions
    out, _ = flap(core, 3.0, 4)
    held = core.state
    assert raised(out, "lane_held") == 0
    released = officer(core, OperatorAction.RELEASE)
    assert (held, core.state) == (LaneState.HOLD, LaneState.RELEASING)
    assert cleared(released, "lane_held") == 1
