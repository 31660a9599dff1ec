"""Safe boot (S9), restart with a vehicle on the deck, field checks (S8), exit tailgating."""

from __future__ import annotations

from controller.core.commands import (
    CommitTransaction,
    DeckContext,
    DisableAutoClose,
    MoveBarrier,
    SetLights,
)
from controller.core.events import (
    BarrierReported,
    DeviceHealthChanged,
    InputsChanged,
    TimerExpired,
    WeightReported,
)
from controller.core.lane import LaneCore
from controller.core.timer_ids import BOOT
from controller.core.types import (
    Aspect,
    BarrierState,
    Decision,
    Device,
    LaneState,
    Motion,
    MoveReason,
    Side,
)
from simulation.scripted import ScriptedLane, Truck

ALL_QUIET = {
    "approach_loop": False,
    "entry_arm_loop": False,
    "beam_in": False,
    "beam_out": False,
    "exit_arm_loop": False,
}


def state(core: LaneCore) -> LaneState:
    return core.state


def report_all(core: LaneCore, *, kg: float = 0.0, auto_close: bool = False) -> list[object]:
    out: list[object] = []
    out += core.handle(InputsChanged(0.1, ALL_QUIET))
    for side in Side:
        report = BarrierReported(0.1, side, BarrierState.CLOSED, 0, auto_close=auto_close)
        out += core.handle(report)
    out += core.handle(WeightReported(0.1, kg, motion=False))
    out += core.handle(DeviceHealthChanged(0.1, Device.RFID, healthy=True))
    return out


def test_nothing_is_commanded_before_every_device_has_reported() -> None:
    core = LaneCore()
    core.start(0.0)
    early = core.handle(InputsChanged(0.1, ALL_QUIET))
    early += core.handle(BarrierReported(0.1, Side.ENTRY, BarrierState.CLOSED, 0))
    assert not [c for c in early if isinstance(c, SetLights | MoveBarrier)]
    assert state(core) == LaneState.BOOTING
    rest = core.handle(BarrierReported(0.1, Side.EXIT, BarrierState.CLOSED, 0))
    rest += core.handle(WeightReported(0.1, 0.0, motion=False))
    rest += core.handle(DeviceHealthChanged(0.1, Device.RFID, healthy=True))
    assert SetLights(Aspect.RED, Aspect.RED) in rest
    assert state(core) != LaneState.BOOTING


def test_auto_close_is_disabled_and_verified_before_boot_completes() -> None:
    core = LaneCore()
    core.start(0.0)
    out = report_all(core, auto_close=True)
    assert DisableAutoClose(Side.ENTRY) in out
    assert DisableAutoClose(Side.EXIT) in out
    assert state(core) == LaneState.BOOTING
    for side in Side:
        core.handle(BarrierReported(0.2, side, BarrierState.CLOSED, 0, auto_close=False))
    assert state(core) != LaneState.BOOTING


def test_a_device_that_never_reports_faults_the_boot() -> None:
    core = LaneCore()
    core.start(0.0)
    core.handle(InputsChanged(0.1, ALL_QUIET))
    core.handle(TimerExpired(core.params.boot_timeout_s, BOOT))
    assert state(core) == LaneState.FAULT
    assert core.latched_fault is not None
    assert "S9" in core.latched_fault


def context(*, committed: bool) -> DeckContext:
    return DeckContext(
        transaction_id="tx-1",
        stage=LaneState.COMMITTING,
        tag="E1",
        request_id="rq-1",
        decision=Decision.GRANT,
        declared_gross_kg=None,
        tolerance_kg=None,
        gross_kg=24500,
        raw_frame=b"frame",
        committed=committed,
        outcome=None,
        hold_reason="",
        stage_times=(("weighed", 10.0),),
    )


def test_restart_with_a_committed_vehicle_resumes_at_release_without_recommitting() -> None:
    core = LaneCore(deck=context(committed=True))
    core.start(0.0)
    out = report_all(core, kg=24500)
    assert state(core) == LaneState.RELEASING
    assert not [c for c in out if isinstance(c, CommitTransaction)]
    assert MoveBarrier(Side.EXIT, Motion.OPEN, MoveReason.RELEASE) in out


def test_restart_with_an_uncommitted_vehicle_holds() -> None:
    core = LaneCore(deck=context(committed=False))
    core.start(0.0)
    out = report_all(core, kg=24500)
    assert state(core) == LaneState.HOLD
    assert not [c for c in out if isinstance(c, CommitTransaction | MoveBarrier)]


def test_restart_with_an_unknown_vehicle_on_the_deck_holds() -> None:
    core = LaneCore()
    core.start(0.0)
    report_all(core, kg=18000)
    assert state(core) == LaneState.HOLD


def test_a_latched_fault_survives_a_restart() -> None:
    core = LaneCore(latched_fault="S7: io data lost longer than latch_ms")
    core.start(0.0)
    out = report_all(core)
    assert state(core) == LaneState.FAULT
    assert SetLights(Aspect.RED, Aspect.RED) in out


def test_uncommanded_movement_is_a_fault() -> None:
    lane = ScriptedLane()
    lane.run_for(2)
    lane.feed(BarrierReported(lane.now, Side.EXIT, BarrierState.OPENING, 10))
    assert state(lane.core) == LaneState.FAULT
    assert lane.core.latched_fault is not None
    assert "S8" in lane.core.latched_fault


def test_a_stroke_that_does_not_finish_is_a_fault() -> None:
    lane = ScriptedLane(travel_s=30.0)  # a barrier far slower than stroke_timeout_s
    lane.run_for(2)
    lane.arrive(Truck("E1", 20000))
    lane.run_for(lane.params.clearance_timeout_s + lane.params.stroke_timeout_s)
    assert state(lane.core) == LaneState.FAULT
    assert lane.core.latched_fault == "S8: entry barrier stroke did not finish in time"


def test_a_second_vehicle_on_the_deck_at_the_exit_holds() -> None:
    lane = ScriptedLane()
    lane.run_for(2)
    truck = Truck("E1", 20000)
    lane.arrive(truck)
    assert lane.run_until(lambda: lane.lights[0] == Aspect.GREEN, 30)
    lane.run_for(1)
    lane.drive_onto_deck(truck)
    assert lane.run_until(lambda: lane.lights[1] == Aspect.GREEN, 60)
    lane.set_inputs(exit_arm_loop=True)
    lane.run_for(2)
    lane.set_inputs(exit_arm_loop=False)  # the weighed truck has left ...
    lane.load_kg = 15000  # ... but another one is still on the deck
    lane.run_for(3)
    assert state(lane.core) == LaneState.HOLD
    assert lane.core.deck is not None
    assert lane.core.deck.hold_reason == "second vehicle on the deck at exit"
