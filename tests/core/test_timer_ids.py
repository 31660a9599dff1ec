"""Timer ids are values: a kind and the subject it needs, never a name parsed back."""

from __future__ import annotations

import pytest

from controller.core.timer_ids import PER_DEVICE, PER_SIDE, TimerId, TimerKind, at, latch
from controller.core.types import Device, Side


def test_each_kind_takes_exactly_the_subject_it_needs() -> None:
    for kind in TimerKind:
        if kind in PER_SIDE:
            assert at(kind, Side.EXIT) == TimerId(kind, Side.EXIT)
            with pytest.raises(ValueError, match=kind.value):
                TimerId(kind)
        elif kind in PER_DEVICE:
            assert latch(Device.SCALE) == TimerId(kind, device=Device.SCALE)
            with pytest.raises(ValueError, match=kind.value):
                TimerId(kind, Side.ENTRY)
        else:
            with pytest.raises(ValueError, match=kind.value):
                TimerId(kind, Side.ENTRY)


def test_ids_at_different_sides_or_devices_are_different_timers() -> None:
    assert at(TimerKind.STROKE, Side.ENTRY) != at(TimerKind.STROKE, Side.EXIT)
    assert at(TimerKind.STROKE, Side.ENTRY) != at(TimerKind.STROKE_START, Side.ENTRY)
    assert latch(Device.IO) != latch(Device.SCALE)
    assert len({at(k, s) for k in PER_SIDE for s in Side}) == 2 * len(PER_SIDE)


def test_an_id_reads_as_its_kind_and_subject() -> None:
    assert str(at(TimerKind.STROKE_START, Side.ENTRY)) == "stroke_start:entry"
    assert str(latch(Device.SCALE)) == f"latch:{Device.SCALE.value}"
    assert str(TimerId(TimerKind.BOOT)) == "boot"
