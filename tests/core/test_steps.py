"""Unit tests of the workflow's steps and branches (DESIGN section 3), on the scripted lane
and with single core steps. Each asserts on the commands and events that leave the core."""

from __future__ import annotations

from controller.core.commands import (
    CommitTransaction,
    MoveBarrier,
    PersistFault,
    PublishEvent,
    RequestClearance,
    SetLights,
    ZeroScale,
)
from controller.core.events import (
    DeviceHealthChanged,
    InputsChanged,
    OperatorCommanded,
    TagsRead,
    TimerExpired,
)
from controller.core.timer_ids import CLEARANCE
from controller.core.types import (
    Aspect,
    Decision,
    Device,
    LaneState,
    Motion,
    MoveReason,
    OperatorAction,
    Outcome,
    Role,
    Side,
)
from simulation.scripted import ScriptedLane, Truck


def booted() -> ScriptedLane:
    lane = ScriptedLane()
    lane.run_for(2.0)
    assert state(lane) == LaneState.IDLE
    return lane


def officer(
    lane: ScriptedLane,
    action: OperatorAction,
    *,
    side: Side | None = None,
    tag: str | None = None,
    reason: str = "",
) -> None:
    lane.feed(
        OperatorCommanded(lane.now, action, "officer.an", Role.OFFICER, True, side, tag, reason)
    )


def state(lane: ScriptedLane) -> LaneState:
    """Read afresh: every feed may move the lane (keeps mypy from narrowing across calls)."""
    return lane.core.state


def reverse_sign(lane: ScriptedLane) -> bool:
    return lane.core.signs[1]


def events(lane: ScriptedLane, type_: str) -> list[PublishEvent]:
    return [e for e in lane.events if e.type == type_]


def test_a_full_cycle_commits_before_the_exit_opens() -> None:
    lane = booted()
    assert lane.process(Truck("E1", 24500, declared_kg=24400))
    [record] = lane.committed
    assert record.outcome == Outcome.CLEARED
    assert record.gross_kg == 24500
    commit_at = next(i for i, c in enumerate(lane.commands) if isinstance(c, CommitTransaction))
    release_at = next(
        i
        for i, c in enumerate(lane.commands)
        if isinstance(c, MoveBarrier) and c.side == Side.EXIT and c.motion == Motion.OPEN
    )
    assert commit_at < release_at
    states = [e.data["state"] for e in events(lane, "state_changed")]
    expected = "admitting entering weighing committing releasing leaving clearing idle"
    assert states[-8:] == expected.split()


def test_entry_light_turns_red_on_the_rising_edge_at_the_arm() -> None:
    lane = booted()
    lane.arrive(Truck("E1", 20000))
    assert lane.run_until(lambda: lane.lights[0] == Aspect.GREEN, 30)
    commands = lane.feed(InputsChanged(lane.now, {"approach_loop": False, "entry_arm_loop": True}))
    lights = [c for c in commands if isinstance(c, SetLights)]
    assert lights
    assert lights[-1].entry == Aspect.RED


def test_no_close_before_presence_has_been_clear_for_clear_hold() -> None:
    lane = booted()
    lane.arrive(Truck("E1", 20000))
    assert lane.run_until(lambda: lane.lights[0] == Aspect.GREEN, 30)
    lane.feed(InputsChanged(lane.now, {"approach_loop": False, "entry_arm_loop": True}))
    lane.run_for(1.0)
    left = lane.now
    lane.feed(InputsChanged(lane.now, {"entry_arm_loop": False}))
    closes: list[float] = []
    lane.run_until(lambda: bool(closes) or _entry_close(lane, closes), 5)
    assert closes
    assert closes[0] - left >= lane.params.clear_hold_s


def _entry_close(lane: ScriptedLane, seen: list[float]) -> bool:
    for command in lane.commands[-5:]:
        if command == MoveBarrier(Side.ENTRY, Motion.CLOSE, MoveReason.SECURE):
            seen.append(lane.now)
            return True
    return False


def test_presence_during_a_close_stroke_reopens_in_the_same_step() -> None:
    lane = booted()
    lane.arrive(Truck("E1", 20000))
    assert lane.run_until(lambda: lane.lights[0] == Aspect.GREEN, 30)
    lane.feed(InputsChanged(lane.now, {"approach_loop": False, "entry_arm_loop": True}))
    lane.feed(InputsChanged(lane.now + 0.5, {"entry_arm_loop": False}))
    assert lane.run_until(lambda: lane.core.commanded[Side.ENTRY] == Motion.CLOSE, 5)
    lane.run_for(0.2)  # the barrier reports its close stroke
    commands = lane.feed(InputsChanged(lane.now, {"entry_arm_loop": True}))
    reopen = [c for c in commands if isinstance(c, MoveBarrier)]
    assert reopen == [MoveBarrier(Side.ENTRY, Motion.OPEN, MoveReason.SAFETY_REOPEN)]


def test_denial_keeps_the_entry_closed_and_does_not_ask_again() -> None:
    lane = booted()
    truck = Truck("E9", 20000, Decision.DENY)
    lane.arrive(truck)
    lane.run_for(10)
    assert reverse_sign(lane)  # reverse out
    assert lane.lights[0] == Aspect.RED
    requests = [c for c in lane.commands if isinstance(c, RequestClearance)]
    assert len(requests) == 1
    lane.feed(TagsRead(lane.now, ("E9",)))
    assert len([c for c in lane.commands if isinstance(c, RequestClearance)]) == 1
    lane.set_inputs(approach_loop=False)
    assert not reverse_sign(lane)
    lane.arrive(truck)  # it comes back: a new approach, a new request
    lane.run_for(5)
    assert len([c for c in lane.commands if isinstance(c, RequestClearance)]) == 2


def test_two_unbound_tags_raise_ambiguity_and_no_request() -> None:
    lane = booted()
    lane.arrive(Truck("E1", 20000), tags=("E1", "E2"))
    lane.run_for(5)
    assert not [c for c in lane.commands if isinstance(c, RequestClearance)]
    assert any(e.data.get("code") == "ambiguous_identity" for e in events(lane, "alarm"))
    officer(lane, OperatorAction.IDENTIFY, tag="E1", reason="checked the plate")
    requests = [c for c in lane.commands if isinstance(c, RequestClearance)]
    assert [r.tag for r in requests] == ["E1"]


def test_clearance_timeout_alarms_and_keeps_the_entry_closed() -> None:
    lane = booted()
    lane.clearance_s = 1e6  # the service never answers
    lane.arrive(Truck("E1", 20000))
    lane.run_for(lane.params.clearance_timeout_s + 2)
    assert any(e.data.get("code") == "clearance_timeout" for e in events(lane, "alarm"))
    assert state(lane) == LaneState.IDLE
    assert not any(isinstance(c, MoveBarrier) and c.motion == Motion.OPEN for c in lane.commands)


def held_after_weighing(truck: Truck) -> ScriptedLane:
    lane = booted()
    lane.arrive(truck)
    assert lane.run_until(lambda: lane.lights[0] == Aspect.GREEN, 30)
    lane.run_for(1)
    lane.drive_onto_deck(truck)
    assert lane.run_until(lambda: state(lane) == LaneState.HOLD, 60)
    return lane


def test_inspect_holds_after_weighing() -> None:
    lane = held_after_weighing(Truck("E1", 20000, Decision.INSPECT))
    assert lane.core.deck is not None
    assert lane.core.deck.hold_reason == "inspect"
    assert not lane.committed


def test_out_of_tolerance_holds_and_officer_release_commits_cleared() -> None:
    lane = held_after_weighing(Truck("E1", 20000, declared_kg=30000))
    officer(lane, OperatorAction.RELEASE, reason="manifest amended")
    assert lane.run_until(lambda: bool(lane.committed), 5)
    assert lane.committed[0].outcome == Outcome.CLEARED
    assert lane.run_until(lambda: lane.lights[1] == Aspect.GREEN, 10)


def test_officer_reject_commits_rejected_before_the_exit_opens() -> None:
    lane = held_after_weighing(Truck("E1", 20000, Decision.INSPECT))
    officer(lane, OperatorAction.REJECT, reason="seal broken")
    assert lane.run_until(lambda: lane.core.commanded[Side.EXIT] == Motion.OPEN, 10)
    assert [r.outcome for r in lane.committed] == [Outcome.REJECTED]


def test_a_technician_cannot_release_a_hold() -> None:
    lane = held_after_weighing(Truck("E1", 20000, Decision.INSPECT))
    lane.feed(OperatorCommanded(lane.now, OperatorAction.RELEASE, "tech", Role.TECHNICIAN, True))
    assert state(lane) == LaneState.HOLD
    refused = events(lane, "operator_refused")
    assert refused[-1].data["refused"] == "release needs an officer"


def test_position_timeout_holds_with_the_reposition_sign() -> None:
    lane = booted()
    truck = Truck("E1", 20000)
    lane.arrive(truck)
    assert lane.run_until(lambda: lane.lights[0] == Aspect.GREEN, 30)
    lane.set_inputs(approach_loop=False, entry_arm_loop=True)
    lane.run_for(1)
    lane.set_inputs(entry_arm_loop=False, beam_in=True)  # stops with its rear on beam_in
    lane.load_kg = 15000
    lane.run_for(lane.params.position_timeout_s + 5)
    assert state(lane) == LaneState.HOLD
    assert lane.core.signs[0]
    assert lane.core.deck is not None
    assert lane.core.deck.hold_reason == "position_timeout"
    officer(lane, OperatorAction.RELEASE, reason="weighbridge out of order")
    assert lane.run_until(lambda: bool(lane.committed), 5)
    assert lane.committed[0].outcome == Outcome.RELEASED_UNWEIGHED
    assert lane.committed[0].gross_kg is None


def test_tailgating_at_the_entry_holds() -> None:
    lane = booted()
    lane.arrive(Truck("E1", 20000))
    assert lane.run_until(lambda: lane.lights[0] == Aspect.GREEN, 30)
    lane.set_inputs(approach_loop=False, entry_arm_loop=True)
    lane.set_inputs(entry_arm_loop=False)
    lane.set_inputs(entry_arm_loop=True)  # a second vehicle under the open arm
    assert state(lane) == LaneState.HOLD
    assert any(e.data.get("code") == "tailgating" for e in events(lane, "alarm"))


def test_transient_data_loss_degrades_then_resumes() -> None:
    lane = booted()
    lane.feed(DeviceHealthChanged(lane.now, Device.SCALE, healthy=False))
    assert state(lane) == LaneState.DEGRADED
    lane.run_for(lane.params.latch_s / 2)
    lane.feed(DeviceHealthChanged(lane.now, Device.SCALE, healthy=True))
    assert state(lane) == LaneState.IDLE
    assert lane.process(Truck("E1", 20000))


def test_persistent_data_loss_latches_a_fault_until_an_officer_resets() -> None:
    lane = booted()
    lane.feed(DeviceHealthChanged(lane.now, Device.IO, healthy=False))
    lane.run_for(lane.params.latch_s + 0.5)
    assert state(lane) == LaneState.FAULT
    persisted = [c for c in lane.commands if isinstance(c, PersistFault)]
    assert persisted[-1].reason is not None
    assert "S7" in persisted[-1].reason
    lane.feed(DeviceHealthChanged(lane.now, Device.IO, healthy=True))
    assert state(lane) == LaneState.FAULT  # latched: fresh data alone does not resume
    lane.feed(OperatorCommanded(lane.now, OperatorAction.RESET, "tech", Role.TECHNICIAN, True))
    assert state(lane) == LaneState.FAULT
    officer(lane, OperatorAction.RESET, reason="loop cable repaired")
    assert state(lane) in (LaneState.CLEARING, LaneState.IDLE)  # closed up: straight on
    assert [c for c in lane.commands if isinstance(c, PersistFault)][-1].reason is None


def test_maintenance_commands_are_still_vetoed() -> None:
    lane = booted()
    officer(lane, OperatorAction.MODE_MAINTENANCE)
    assert state(lane) == LaneState.MAINTENANCE
    lane.set_inputs(beam_in=True)
    lane.load_kg = 5000
    lane.run_for(1)
    officer(lane, OperatorAction.BARRIER_OPEN, side=Side.ENTRY)  # S3: deck occupied
    officer(lane, OperatorAction.LIGHT_GREEN, side=Side.EXIT)  # S2: exit not open
    refusals = [str(e.data["refused"]) for e in events(lane, "operator_refused")]
    assert refusals[0].startswith("interlock veto S3")
    assert refusals[1].startswith("interlock veto S2")
    lane.set_inputs(beam_in=False, exit_arm_loop=True)
    officer(lane, OperatorAction.BARRIER_OPEN, side=Side.EXIT)
    lane.run_for(4)
    officer(lane, OperatorAction.BARRIER_CLOSE, side=Side.EXIT)  # S1: presence at the arm
    assert str(events(lane, "operator_refused")[-1].data["refused"]).startswith("interlock veto S1")
    assert lane.core.commanded[Side.EXIT] == Motion.OPEN


def test_closed_mode_drains_and_admits_no_more() -> None:
    lane = booted()
    truck = Truck("E1", 20000)
    lane.arrive(truck)
    assert lane.run_until(lambda: lane.lights[0] == Aspect.GREEN, 30)
    officer(lane, OperatorAction.MODE_CLOSED)
    lane.run_for(1)
    lane.drive_onto_deck(truck)
    assert lane.run_until(lambda: lane.lights[1] == Aspect.GREEN, 60)
    lane.run_for(1)
    lane.drive_off()
    assert lane.run_until(lambda: state(lane) == LaneState.CLOSED, 60)
    lane.arrive(Truck("E2", 20000))
    lane.run_for(20)
    assert state(lane) == LaneState.CLOSED
    assert len([c for c in lane.commands if isinstance(c, RequestClearance)]) == 1


def test_emergency_opens_both_and_needs_a_reset_to_leave() -> None:
    lane = booted()
    officer(lane, OperatorAction.MODE_EMERGENCY, reason="fire in the yard")
    moves = [c for c in lane.commands if isinstance(c, MoveBarrier)][-2:]
    assert {(m.side, m.motion, m.reason) for m in moves} == {
        (Side.ENTRY, Motion.OPEN, MoveReason.EVACUATE),
        (Side.EXIT, Motion.OPEN, MoveReason.EVACUATE),
    }
    lane.run_for(5)
    assert lane.lights == (Aspect.RED, Aspect.RED)
    officer(lane, OperatorAction.MODE_AUTO)
    assert state(lane) == LaneState.FAULT
    officer(lane, OperatorAction.RESET, reason="all clear")
    assert state(lane) == LaneState.CLEARING


def test_zero_before_entry_and_auto_zero_within_capture() -> None:
    lane = booted()
    lane.load_kg = 300.0  # drift: inside zero_capture_kg, outside zero_band_kg
    lane.run_for(2)
    zeros = [c for c in lane.commands if isinstance(c, ZeroScale)]
    assert zeros
    assert lane.load_kg == 0.0


def test_a_reading_beyond_zero_capture_alarms_and_blocks_admission() -> None:
    lane = booted()
    lane.load_kg = 900.0
    lane.run_for(3)
    assert not [c for c in lane.commands if isinstance(c, ZeroScale)]
    assert any(e.data.get("code") == "scale_zero_out_of_range" for e in events(lane, "alarm"))
    lane.arrive(Truck("E1", 20000))
    lane.run_for(10)
    assert state(lane) == LaneState.IDLE  # granted, but S12 keeps the entry closed
    assert not any(isinstance(c, MoveBarrier) and c.motion == Motion.OPEN for c in lane.commands)


def test_stale_timer_expiries_are_ignored() -> None:
    lane = booted()
    before = state(lane)
    lane.feed(TimerExpired(lane.now, CLEARANCE))
    assert state(lane) == before
