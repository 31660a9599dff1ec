"""The barrier's physics and its board's rules, stepped with dt."""

from __future__ import annotations

import pytest

from devices.barrier.codec import BarrierFlags, BarrierState
from emulators.barrier.model import BarrierError, BarrierModel, Cause
from emulators.faults import FaultBook, FaultKind, FaultSpec

S = BarrierState


def state(model: BarrierModel) -> BarrierState:
    """Read afresh: commands and time move it (keeps mypy from narrowing across calls)."""
    return model.state


def run(model: BarrierModel, seconds: float, dt: float = 0.01) -> None:
    for _ in range(round(seconds / dt)):
        model.advance(dt)


def opened(*, auto_close: bool = False, auto_close_s: float = 10.0) -> BarrierModel:
    model = BarrierModel(position=100.0, auto_close=auto_close, auto_close_s=auto_close_s)
    assert state(model) == S.OPEN
    return model


def test_a_stroke_takes_the_travel_time() -> None:
    model = BarrierModel(travel_s=3.0)
    assert state(model) == S.CLOSED
    model.open()
    run(model, 1.5)
    assert state(model) == S.OPENING
    assert model.position == pytest.approx(50.0)
    run(model, 1.5)
    assert (model.state, model.position, model.strokes) == (S.OPEN, 100.0, 1)
    assert model.status().position == 100


def test_open_while_closing_reverses() -> None:
    model = opened()
    model.close()
    run(model, 1.0)
    model.open()
    assert state(model) == S.OPENING
    run(model, 1.0 + 0.05)
    assert state(model) == S.OPEN


def test_close_is_refused_while_presence_is_sensed() -> None:
    model = opened()
    model.set_safety_edge(True)
    model.close()
    assert state(model) == S.OPEN
    assert model.last_error == BarrierError.CLOSE_REFUSED
    model.set_safety_edge(False)
    model.close()
    assert state(model) == S.CLOSING


def test_presence_during_a_close_stroke_reopens_the_arm() -> None:
    model = opened()
    model.close()
    run(model, 1.0)
    model.set_obstacle(True)
    assert state(model) == S.OPENING
    assert model.last_error == BarrierError.REVERSED
    assert model.movements[-1].cause == Cause.PRESENCE
    assert [m.cause for m in model.movements] == [Cause.COMMAND, Cause.PRESENCE]


def test_stop_then_close_from_mid_travel() -> None:
    model = BarrierModel()
    model.open()
    run(model, 1.0)
    model.stop()
    run(model, 1.0)
    assert state(model) == S.STOPPED
    assert model.position == pytest.approx(100 / 3)
    model.close()
    run(model, 1.05)
    assert state(model) == S.CLOSED
    assert model.strokes == 1


def test_auto_close_after_the_dwell_without_presence() -> None:
    model = opened(auto_close=True, auto_close_s=2.0)
    model.advance(1.0)
    model.set_obstacle(True)
    run(model, 3.0)
    model.set_obstacle(False)
    run(model, 1.9)
    assert state(model) == S.OPEN
    run(model, 0.2)
    assert state(model) == S.CLOSING
    assert model.movements[-1].cause == Cause.AUTO_CLOSE
    assert model.status().flags & BarrierFlags.AUTO_CLOSE


def test_stuck_actuator_accepts_commands_but_does_not_move() -> None:
    faults = FaultBook()
    model = BarrierModel(faults=faults, unit=2)
    faults.inject(FaultSpec(kind=FaultKind.STUCK_ACTUATOR, unit=2, duration_s=5.0), 0.0)
    model.open()
    run(model, 4.0)
    assert (model.state, model.position) == (S.OPENING, 0.0)
    run(model, 4.0)
    assert state(model) == S.OPEN


def test_motor_fault_latches_until_reset() -> None:
    model = BarrierModel()
    model.open()
    run(model, 1.0)
    model.trip_motor_fault()
    assert state(model) == S.FAULT
    assert model.status().flags & BarrierFlags.MOTOR_FAULT
    model.open()
    model.close()
    run(model, 1.0)
    assert state(model) == S.FAULT
    assert model.last_error == BarrierError.IGNORED_IN_FAULT
    model.reset()
    assert state(model) == S.STOPPED
    assert not model.status().flags & BarrierFlags.MOTOR_FAULT


def test_status_block() -> None:
    model = opened()
    model.set_obstacle(True)
    status = model.status()
    assert (status.state, status.position, status.strokes) == (S.OPEN, 100, 0)
    assert status.flags == BarrierFlags.OBSTACLE
    assert status.last_error == 0
    assert not status.auto_close


def test_bad_parameters() -> None:
    with pytest.raises(ValueError, match="travel_s"):
        BarrierModel(travel_s=0)
