"""A mode change asked for while a vehicle is being processed is pending, like closed's
drain: answered as accepted with what is pending, it admits no more, lets the vehicle
finish and leave, and takes effect once the lane has closed up; `mode auto` cancels it;
emergency is never deferred. The operator's mode is journaled (PersistMode)."""

from __future__ import annotations

from controller.core.commands import PersistMode, PublishEvent
from controller.core.events import InvariantViolated, OperatorCommanded
from controller.core.types import Aspect, LaneState, Mode, OperatorAction, Role
from simulation.scripted import ScriptedLane, Truck

A = OperatorAction


def command(
    lane: ScriptedLane, action: OperatorAction, role: Role = Role.TECHNICIAN
) -> list[object]:
    return list(lane.feed(OperatorCommanded(lane.now, action, "tech", role, True, reason="test")))


def typed(out: list[object], type_: str) -> list[PublishEvent]:
    return [c for c in out if isinstance(c, PublishEvent) and c.type == type_]


def current(lane: ScriptedLane) -> LaneState:
    return lane.core.state


def pending(lane: ScriptedLane) -> Mode | None:
    return lane.core.pending_mode


def on_the_deck(lane: ScriptedLane) -> Truck:
    """A granted truck driven onto the deck: the lane is weighing or further on."""
    truck = Truck("E2001", 30_000)
    lane.arrive(truck)
    assert lane.run_until(lambda: lane.lights[0] == Aspect.GREEN, 60)
    lane.drive_onto_deck(truck)
    assert lane.run_until(lambda: lane.core.state == LaneState.WEIGHING, 60)
    return truck


def test_maintenance_asked_with_a_vehicle_on_the_deck_is_pending_then_taken() -> None:
    lane = ScriptedLane()
    lane.run_for(1)
    on_the_deck(lane)
    out = command(lane, A.MODE_MAINTENANCE)
    assert not typed(out, "operator_refused")
    deferred = typed(out, "mode_pending")
    assert deferred
    assert deferred[0].data["message"] == "maintenance after the current vehicle"
    assert pending(lane) == Mode.MAINTENANCE
    assert lane.core.state == LaneState.WEIGHING  # the vehicle is not cut short
    assert lane.run_until(lambda: lane.lights[1] == Aspect.GREEN, 60)
    second = Truck("E2002", 20_000)
    lane.arrive(second)  # not admitted meanwhile
    lane.drive_off()
    assert lane.run_until(lambda: lane.core.state == LaneState.MAINTENANCE, 60)
    assert pending(lane) is None
    assert [r.tag for r in lane.committed] == ["E2001"]  # the vehicle finished normally
    assert PersistMode(Mode.MAINTENANCE) in lane.commands


def test_closed_asked_with_a_vehicle_on_the_deck_says_pending_too() -> None:
    lane = ScriptedLane()
    lane.run_for(1)
    on_the_deck(lane)
    out = command(lane, A.MODE_CLOSED)
    assert typed(out, "mode_pending")[0].data["message"] == "closed after the current vehicle"
    assert pending(lane) == Mode.CLOSED


def test_mode_auto_cancels_a_pending_maintenance() -> None:
    lane = ScriptedLane()
    lane.run_for(1)
    on_the_deck(lane)
    command(lane, A.MODE_MAINTENANCE)
    out = command(lane, A.MODE_AUTO)
    assert typed(out, "mode_pending_cancelled")[0].data["mode"] == "maintenance"
    assert pending(lane) is None
    assert lane.run_until(lambda: lane.lights[1] == Aspect.GREEN, 60)
    lane.drive_off()
    assert lane.run_until(lambda: lane.core.state == LaneState.IDLE, 60)


def test_emergency_is_never_deferred() -> None:
    lane = ScriptedLane()
    lane.run_for(1)
    on_the_deck(lane)
    command(lane, A.MODE_MAINTENANCE)
    command(lane, A.MODE_EMERGENCY, Role.OFFICER)
    assert lane.core.state == LaneState.EMERGENCY


def test_a_refused_mode_request_changes_no_mode() -> None:
    lane = ScriptedLane()
    lane.run_for(1)
    on_the_deck(lane)
    out = command(lane, A.MODE_MAINTENANCE, Role.VIEWER)
    assert typed(out, "operator_refused")
    assert pending(lane) is None


def test_closed_asked_in_maintenance_is_pending_until_the_lane_has_closed_up() -> None:
    lane = ScriptedLane()
    lane.run_for(1)
    command(lane, A.MODE_MAINTENANCE)
    out = command(lane, A.MODE_CLOSED)
    assert typed(out, "mode_pending")[0].data["message"] == "closed once the lane is closed up"
    assert lane.run_until(lambda: lane.core.state == LaneState.CLOSED, 30)
    assert pending(lane) is None


def test_the_journaled_mode_follows_a_reset_from_a_fault_in_maintenance() -> None:
    lane = ScriptedLane()
    lane.run_for(1)
    command(lane, A.MODE_MAINTENANCE)
    lane.feed(InvariantViolated(lane.now, "S8", "injected by the test"))
    assert current(lane) == LaneState.FAULT
    assert lane.core.mode == Mode.MAINTENANCE  # a restart now boots faulted, then maintenance
    command(lane, A.RESET, Role.OFFICER)
    assert current(lane) != LaneState.FAULT
    in_maintenance = current(lane) == LaneState.MAINTENANCE  # (issue 17 item 5 says it should)
    assert (lane.core.mode == Mode.MAINTENANCE) == in_maintenance
    assert [c for c in lane.commands if isinstance(c, PersistMode)][-1].mode == lane.core.mode
