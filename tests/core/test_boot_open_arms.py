"""Restart after a crash mid-stroke: arms found open over an empty lane close once S1's
clear hold has really been observed, never before (a boot has no falling edge to start
the hold from)."""

from __future__ import annotations

from collections.abc import Sequence

from controller.core.commands import MoveBarrier
from controller.core.events import (
    BarrierReported,
    DeviceHealthChanged,
    InputsChanged,
    WeightReported,
)
from controller.core.lane import LaneCore
from controller.core.types import BarrierState, Device, LaneState, Motion, Side

QUIET = {
    "approach_loop": True,
    "entry_arm_loop": False,
    "beam_in": False,
    "beam_out": False,
    "exit_arm_loop": False,
}


def booted_with_open_arms(now: float, inputs: dict[str, bool]) -> tuple[LaneCore, list[object]]:
    core = LaneCore(new_id=iter(f"id-{i}" for i in range(100)).__next__)
    core.start(0.0)
    out: list[object] = list(core.handle(InputsChanged(now, inputs)))
    for side in Side:
        out += core.handle(BarrierReported(now, side, BarrierState.OPEN, 100, auto_close=False))
    out += core.handle(WeightReported(now, 0.0, motion=False))
    out += core.handle(DeviceHealthChanged(now, Device.RFID, healthy=True))
    return core, out


def closes(commands: Sequence[object]) -> set[Side]:
    return {c.side for c in commands if isinstance(c, MoveBarrier) and c.motion == Motion.CLOSE}


def test_open_arms_over_an_empty_lane_close_after_the_clear_hold() -> None:
    core, out = booted_with_open_arms(0.1, QUIET)
    hold = core.params.clear_hold_s
    assert core.state == LaneState.CLEARING
    early = out + core.handle(InputsChanged(0.1 + hold * 0.9, QUIET))
    assert closes(early) == set()  # not before S1's hold has been seen
    later = core.handle(InputsChanged(0.1 + hold + 0.01, QUIET))
    assert closes(later) == {Side.ENTRY, Side.EXIT}


def test_an_arm_with_presence_at_boot_stays_open_until_clear_for_the_hold() -> None:
    occupied = {**QUIET, "entry_arm_loop": True}
    core, booted = booted_with_open_arms(0.1, occupied)
    out: list[object] = list(booted)
    hold = core.params.clear_hold_s
    out += core.handle(InputsChanged(5.0, occupied))
    assert Side.ENTRY not in closes(out)
    moved_off = core.handle(InputsChanged(6.0, QUIET))  # the hold starts now
    moved_off += core.handle(InputsChanged(6.0 + hold * 0.9, QUIET))
    assert Side.ENTRY not in closes(moved_off)
    assert Side.ENTRY in closes(core.handle(InputsChanged(6.0 + hold + 0.01, QUIET)))
