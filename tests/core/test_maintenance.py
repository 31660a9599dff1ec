"""Maintenance relaxes automation, never S1-S12 (issue 17, items 1, 2 and 5): a technician's
green is a green for one vehicle, over an empty deck, and never over an arm that is sent
to move; a command that changes nothing is answered as a no-op and arms no S8 timer; a
fault that arose in maintenance resets back to maintenance, all red, nothing moving."""

from __future__ import annotations

from controller.core.commands import Command, MoveBarrier, SetLights, StartTimer
from controller.core.events import (
    BarrierReported,
    DeviceHealthChanged,
    InvariantViolated,
    OperatorCommanded,
    TimerExpired,
)
from controller.core.timer_ids import TimerKind, at
from controller.core.types import (
    Aspect,
    BarrierState,
    Device,
    LaneState,
    Motion,
    MoveReason,
    OperatorAction,
    Role,
    Side,
)
from simulation.scripted import ScriptedLane
from tests.core.test_steps import booted, events, officer, state

A = OperatorAction


def technician(
    lane: ScriptedLane, action: OperatorAction, side: Side | None = None
) -> list[Command]:
    return lane.feed(OperatorCommanded(lane.now, action, "tech.jo", Role.TECHNICIAN, True, side))


def green_entry() -> ScriptedLane:
    """Maintenance, the entry arm up and its light green, a truck at the stop line."""
    lane = booted()
    technician(lane, A.MODE_MAINTENANCE)
    technician(lane, A.BARRIER_OPEN, Side.ENTRY)
    assert lane.run_until(lambda: lane.core.image.fully_open(Side.ENTRY), 10)
    technician(lane, A.LIGHT_GREEN, Side.ENTRY)
    assert lane.lights[0] == Aspect.GREEN
    lane.set_inputs(approach_loop=True)
    return lane


def refusals(lane: ScriptedLane) -> list[str]:
    return [str(e.data["refused"]) for e in events(lane, "operator_refused")]


def test_a_manual_green_turns_red_as_a_truck_reaches_the_arm_and_stays_red() -> None:
    lane = green_entry()
    lane.set_inputs(approach_loop=False, entry_arm_loop=True)  # the rising edge (S2)
    assert lane.lights[0] == Aspect.RED
    lane.run_for(1.5)
    lane.set_inputs(entry_arm_loop=False, beam_in=True)
    lane.load_kg = 12000.0
    lane.run_for(2.0)
    lane.set_inputs(beam_in=False)
    lane.load_kg = 24500.0
    lane.run_for(3.0)
    assert lane.lights[0] == Aspect.RED  # not green again behind the truck on its own
    assert lane.core.manual_lights[Side.ENTRY] == Aspect.RED
    [withdrawn] = events(lane, "manual_green_withdrawn")
    assert "presence at the entry arm" in str(withdrawn.data["why"])
    technician(lane, A.LIGHT_GREEN, Side.ENTRY)  # the next truck is not let onto it (S3)
    assert lane.lights[0] == Aspect.RED
    assert "deck not empty" in refusals(lane)[-1]


def test_a_vehicle_onto_an_occupied_deck_is_alarmed_in_maintenance() -> None:
    lane = green_entry()
    lane.load_kg = 24500.0  # a truck stands on the deck already
    lane.run_for(0.5)
    assert lane.lights[0] == Aspect.RED  # an occupied deck blocks the entry green, each step
    lane.set_inputs(approach_loop=False, entry_arm_loop=True)
    [alarm] = [e for e in events(lane, "alarm") if e.data["code"] == "vehicle_onto_occupied_deck"]
    assert "occupied" in str(alarm.data["message"])


def test_leaving_maintenance_with_weight_on_the_deck_holds_an_unknown_vehicle() -> None:
    lane = booted()
    technician(lane, A.MODE_MAINTENANCE)
    lane.load_kg = 24500.0  # a truck drove on while the technician worked
    lane.run_for(2.0)
    technician(lane, A.MODE_AUTO)
    assert state(lane) == LaneState.HOLD
    deck = lane.core.deck
    assert deck is not None
    assert deck.tag is None
    assert "maintenance" in deck.hold_reason  # handed over from the maintenance crossing


def test_a_manual_close_under_a_green_turns_it_red_and_closes_after_field_check() -> None:
    lane = green_entry()
    lane.run_for(1.5)  # the arm has been clear for clear_hold
    commands = technician(lane, A.BARRIER_CLOSE, Side.ENTRY)
    [lights] = [c for c in commands if isinstance(c, SetLights)]
    assert lights.entry == Aspect.RED
    assert not [c for c in commands if isinstance(c, MoveBarrier)]  # not before the red is up
    assert lane.core.manual_lights[Side.ENTRY] == Aspect.RED
    technician(lane, A.LIGHT_GREEN, Side.ENTRY)  # still reported open: the close stands
    assert "about to close" in refusals(lane)[-1]
    sent = lane.now
    close = MoveBarrier(Side.ENTRY, Motion.CLOSE, MoveReason.MANUAL)
    assert lane.run_until(lambda: close in lane.commands, 5)
    assert lane.now - sent == lane.params.field_check_s
    assert lane.run_until(lambda: lane.core.image.fully_closed(Side.ENTRY), 5)
    technician(lane, A.BARRIER_OPEN, Side.ENTRY)  # open again: the green does not return
    assert lane.run_until(lambda: lane.core.image.fully_open(Side.ENTRY), 10)
    lane.run_for(1.0)
    assert lane.lights[0] == Aspect.RED


def test_a_close_waiting_for_the_red_is_judged_afresh_and_dropped_onto_a_vehicle() -> None:
    lane = green_entry()
    lane.run_for(1.5)
    technician(lane, A.BARRIER_CLOSE, Side.ENTRY)
    lane.set_inputs(approach_loop=False, entry_arm_loop=True)  # a driver rolled on meanwhile
    lane.run_for(2.0)
    assert not [c for c in lane.commands if isinstance(c, MoveBarrier) and c.motion == Motion.CLOSE]
    [dropped] = events(lane, "manual_close_dropped")
    assert "S1" in str(dropped.data["why"])


def test_a_close_on_a_closed_barrier_is_a_noop_and_arms_no_stroke_timer() -> None:
    lane = booted()
    technician(lane, A.MODE_MAINTENANCE)
    commands = technician(lane, A.BARRIER_CLOSE, Side.ENTRY)
    assert not [c for c in commands if isinstance(c, MoveBarrier | StartTimer)]
    [noop] = events(lane, "operator_noop")
    assert noop.data["why"] == "entry barrier already closed"
    assert noop.data["actor"] == "tech.jo"
    lane.run_for(10.0)  # beyond field_check_ms and stroke_timeout_s
    assert state(lane) == LaneState.MAINTENANCE
    assert lane.core.latched_fault is None


def test_open_on_open_and_a_light_already_shown_are_noops() -> None:
    lane = green_entry()
    technician(lane, A.BARRIER_OPEN, Side.ENTRY)
    technician(lane, A.LIGHT_GREEN, Side.ENTRY)
    technician(lane, A.LIGHT_RED, Side.EXIT)
    technician(lane, A.BARRIER_STOP, Side.EXIT)
    whys = [e.data["why"] for e in events(lane, "operator_noop")]
    assert whys == [
        "entry barrier already open",
        "entry light already green",
        "exit light already red",
        "exit barrier already at rest",
    ]
    assert lane.lights[0] == Aspect.GREEN


def test_a_manual_stop_ends_the_stroke_s8_was_timing() -> None:
    lane = booted()
    technician(lane, A.MODE_MAINTENANCE)
    technician(lane, A.BARRIER_OPEN, Side.ENTRY)
    lane.run_for(1.0)  # mid-stroke
    assert lane.core.image.barrier_state(Side.ENTRY) == BarrierState.OPENING
    technician(lane, A.BARRIER_STOP, Side.ENTRY)
    assert at(TimerKind.STROKE, Side.ENTRY) not in lane.core.timers
    assert at(TimerKind.STOP, Side.ENTRY) in lane.core.timers  # the stop itself must be confirmed
    lane.run_for(12.0)
    assert lane.core.image.barrier_state(Side.ENTRY) == BarrierState.STOPPED
    assert at(TimerKind.STOP, Side.ENTRY) not in lane.core.timers
    assert state(lane) == LaneState.MAINTENANCE


def test_a_barrier_that_ignores_a_manual_stop_faults() -> None:
    lane = booted()
    technician(lane, A.MODE_MAINTENANCE)
    technician(lane, A.BARRIER_OPEN, Side.ENTRY)
    lane.run_for(1.0)
    technician(lane, A.BARRIER_STOP, Side.ENTRY)
    deadline = lane.core.timers[at(TimerKind.STOP, Side.ENTRY)]
    lane.core.handle(BarrierReported(deadline - 0.1, Side.ENTRY, BarrierState.OPENING, 60))
    lane.core.handle(TimerExpired(deadline, at(TimerKind.STOP, Side.ENTRY)))
    assert state(lane) == LaneState.FAULT
    assert lane.core.latched_fault == "S8: entry barrier did not stop in time"


def test_a_fault_in_maintenance_resets_back_to_maintenance_all_red() -> None:
    lane = green_entry()
    lane.set_inputs(approach_loop=False)
    lane.feed(InvariantViolated(lane.now, "S8", "outputs not confirmed"))
    assert state(lane) == LaneState.FAULT
    assert lane.lights == (Aspect.RED, Aspect.RED)
    commands: list[Command] = []
    commands += lane.feed(
        OperatorCommanded(lane.now, A.RESET, "officer.an", Role.OFFICER, True, reason="fixed")
    )
    assert state(lane) == LaneState.MAINTENANCE
    lane.run_for(2.0)
    assert lane.lights == (Aspect.RED, Aspect.RED)  # the manual green is not restored
    moved = [c for c in commands + lane.commands[-50:] if isinstance(c, MoveBarrier)]
    assert not [m for m in moved if m.reason != MoveReason.MANUAL]


def test_a_manual_green_withdrawn_by_a_data_loss_stays_red_on_resume() -> None:
    lane = green_entry()
    lane.feed(DeviceHealthChanged(lane.now, Device.SCALE, healthy=False, reason="silent"))
    assert state(lane) == LaneState.DEGRADED
    lane.feed(DeviceHealthChanged(lane.now, Device.SCALE, healthy=True))
    assert state(lane) == LaneState.MAINTENANCE
    lane.run_for(1.0)
    assert lane.lights[0] == Aspect.RED


def test_a_fault_in_auto_still_resets_to_the_workflow() -> None:
    lane = booted()
    lane.feed(InvariantViolated(lane.now, "S8", "outputs not confirmed"))
    officer(lane, A.RESET, reason="fixed")
    reset = [e.data for e in events(lane, "state_changed") if e.data["previous"] == "fault"]
    assert reset == [{"previous": "fault", "state": "clearing"}]


def test_leaving_maintenance_under_a_manual_green_closes_the_arm_only_behind_the_red() -> None:
    """Found by the state machine's field check: `mode auto` under a manual green sent the
    close in the very step of the red (the lamps and the arm are on different links)."""
    lane = green_entry()
    lane.set_inputs(approach_loop=False)
    lane.run_for(1.5)
    commands = technician(lane, A.MODE_AUTO)
    [lights] = [c for c in commands if isinstance(c, SetLights)]
    assert lights.entry == Aspect.RED
    assert not [c for c in commands if isinstance(c, MoveBarrier)]
    red_at = lane.now
    close = MoveBarrier(Side.ENTRY, Motion.CLOSE, MoveReason.SECURE)
    assert lane.run_until(lambda: close in lane.commands, 5)
    assert lane.now - red_at == lane.params.field_check_s
    assert lane.run_until(lambda: state(lane) == LaneState.IDLE, 10)


def test_a_second_close_right_behind_the_first_still_waits_for_the_red_to_stand() -> None:
    """Found by the long state-machine campaign: the repeated close found the light red
    already (the first had turned it red) and went out in the step after the red."""
    lane = green_entry()
    lane.run_for(1.5)
    technician(lane, A.BARRIER_CLOSE, Side.ENTRY)
    red_at = lane.now
    lane.run_for(0.2)
    commands = technician(lane, A.BARRIER_CLOSE, Side.ENTRY)
    assert not [c for c in commands if isinstance(c, MoveBarrier)]
    close = MoveBarrier(Side.ENTRY, Motion.CLOSE, MoveReason.MANUAL)
    assert lane.run_until(lambda: close in lane.commands, 5)
    assert lane.now - red_at == lane.params.field_check_s
    assert lane.commands.count(close) == 1


def test_a_stop_or_an_open_cancels_a_close_still_waiting_for_its_red() -> None:
    for action in (A.BARRIER_STOP, A.BARRIER_OPEN):
        lane = green_entry()
        lane.run_for(1.5)
        technician(lane, A.BARRIER_CLOSE, Side.ENTRY)
        technician(lane, action, Side.ENTRY)
        assert not events(lane, "operator_noop")
        assert not lane.core.close_pending(Side.ENTRY)
        lane.run_for(3.0)
        assert not [c for c in lane.commands if isinstance(c, MoveBarrier) and c.motion == "close"]
        assert lane.core.image.barriers[Side.ENTRY].position == 100  # still up
