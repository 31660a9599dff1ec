"""A hypothesis state machine that drives the pure core with arbitrary event orders.

It plays every outside party at once (devices, the journal, the clearance service,
technicians and officers, the clock), including physically odd orders, and checks the
safety invariants after every step with the same predicates the interlock uses. A
recording interlock also checks, at the moment each command leaves the core, that the
real rules allow it: so a broken filter is caught even when the workflow stays sound.
Trucks move through the lane on their greens (or recklessly through an open arm) and a
technician works in maintenance; step_checks.py judges every step from outside the core
(S2 in command order and over time, S3 under a manual green), so a rule missing from the
core and from invariants.py alike is still caught.
"""

from __future__ import annotations

from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, rule

from controller.core.commands import (
    Command,
    CommitTransaction,
    MoveBarrier,
    PublishEvent,
    RequestClearance,
    SetLights,
    ZeroScale,
)
from controller.core.crosscheck import fold
from controller.core.events import (
    BarrierReported,
    ClearanceDecided,
    DeviceHealthChanged,
    Event,
    InputsChanged,
    OperatorCommanded,
    PlateReported,
    TagsRead,
    TimerExpired,
    TransactionCommitted,
    WeightReported,
)
from controller.core.interlock import Interlock
from controller.core.invariants import LaneView, Violation, check_command, check_lane, s4_capture
from controller.core.lane import LaneCore
from controller.core.params import CameraParams, LaneParams
from controller.core.types import (
    SIDES,
    Aspect,
    BarrierState,
    Decision,
    Device,
    LaneState,
    Motion,
    MoveReason,
    OperatorAction,
    Role,
    Side,
    Signal,
)
from tests.core.step_checks import Before, Lamps, judge_step
from tests.core.trucks import Traffic

CAMERA = CameraParams(min_confidence=0.8, plate_wait_s=2.0, early_read_s=10.0)
PARAMS = LaneParams(
    latch_s=2.0, clear_hold_s=1.0, stroke_timeout_s=6.0, position_timeout_s=20.0, camera=CAMERA
)
# the plates on file and read: two trucks', and a look-alike misread of the first
PLATES = ["29C12345", "51C67890", "29C1Z345"]
SIGNALS = [s.value for s in Signal if s not in (Signal.ENTRY_RED_OK, Signal.EXIT_RED_OK)]
A = OperatorAction
MODES = [A.MODE_AUTO, A.MODE_MAINTENANCE, A.MODE_CLOSED, A.MODE_EMERGENCY]
MANUAL = [A.BARRIER_OPEN, A.BARRIER_CLOSE, A.BARRIER_STOP, A.LIGHT_RED, A.LIGHT_GREEN]
OFFICER = [A.RELEASE, A.REJECT, A.IDENTIFY, A.RESET, A.CONFIRM, A.REFUSE]
PASSES = "a vehicle passes under the arm"
# mostly entitled and authenticated, so deep paths are reached; the rest exercises refusals
ROLES = st.sampled_from([Role.TECHNICIAN, Role.OFFICER, Role.OFFICER, Role.VIEWER])
AUTH = st.sampled_from([True, True, True, False])
WEIGHTS = st.sampled_from([0.0, 5.0, -8.0, 150.0, 400.0, 900.0, 1500.0, 24500.0, 61000.0])


class RecordingInterlock(Interlock):
    """Wraps the interlock under test; records every passed command the real rules reject."""

    def __init__(self, inner: Interlock) -> None:
        self.inner = inner
        self.escaped: list[tuple[Command, Violation]] = []

    def judge(self, view: LaneView, command: Command, now: float) -> Violation | None:
        verdict = self.inner.judge(view, command, now)
        real = check_command(view, command, now)
        if verdict is None and real is not None:
            self.escaped.append((command, real))
        return verdict


class LaneMachine(RuleBasedStateMachine):
    interlock_under_test: Interlock = Interlock()
    core_under_test: type[LaneCore] = LaneCore
    tags = Bundle("tags")

    def __init__(self) -> None:
        super().__init__()
        self.recorder = RecordingInterlock(self.interlock_under_test)
        counter = iter(range(1, 10**9))
        self.core = self.core_under_test(
            PARAMS, new_id=lambda: f"id-{next(counter)}", interlock=self.recorder
        )
        self.now = 0.0
        self.last: list[Command] = []
        self.requests: list[str] = []
        self.pending_commits: list[str] = []
        self.acked: set[str] = set()
        self.zero_requested = False
        self.reads = 0  # camera event ids issued
        self.traffic = Traffic()
        self.broken: list[str] = []  # what judge_step found, step by step
        self.lamps = Lamps(PARAMS.field_check_s)
        self.core.start(self.now)

    def feed(self, event: Event) -> None:
        before = Before.of(self.core)
        self.last = self.core.handle(event)
        found = self.lamps.follow(event.now, self.last)
        if self.core.state != LaneState.BOOTING:
            found += judge_step(self.core, before, event)
        self.broken.extend(f"{event}: {v}" for v in found)
        for command in self.last:
            if isinstance(command, RequestClearance):
                self.requests.append(command.request_id)
            elif isinstance(command, CommitTransaction):
                self.pending_commits.append(command.record.transaction_id)
            elif isinstance(command, ZeroScale):
                self.zero_requested = True

    @initialize()
    def boot(self) -> None:
        self.feed(InputsChanged(self.now, dict.fromkeys(SIGNALS, False)))
        for side in Side:
            self.feed(BarrierReported(self.now, side, BarrierState.CLOSED, 0))
        self.feed(WeightReported(self.now, 0.0, motion=False))
        self.feed(DeviceHealthChanged(self.now, Device.RFID, healthy=True))

    # ------------------------------------------------------------------ the world
    @rule(dt=st.sampled_from([0.05, 0.3, 1.0, 1.1, 3.0, 7.0]))
    def advance(self, dt: float) -> None:
        """Time passes; the indicator reports (zeroed, if the core asked for it)."""
        self.now += dt
        kg = 0.0 if self.zero_requested else self.core.image.weight_kg or 0.0
        self.zero_requested = False
        self.feed(WeightReported(self.now, kg, motion=False))

    @rule(signal=st.sampled_from(SIGNALS), value=st.booleans())
    def set_input(self, signal: str, value: bool) -> None:
        self.feed(InputsChanged(self.now, {signal: value}))

    @rule(kg=WEIGHTS, motion=st.booleans())
    def weigh(self, kg: float, motion: bool) -> None:
        self.feed(WeightReported(self.now, kg, motion=motion))

    @rule(
        side=st.sampled_from(Side),
        state=st.sampled_from(BarrierState),
        position=st.sampled_from([0, 50, 100, None]),
        presence=st.booleans(),
        auto_close=st.booleans(),
    )
    def barrier_odd(
        self,
        side: Side,
        state: BarrierState,
        position: int | None,
        presence: bool,
        auto_close: bool,
    ) -> None:
        self.feed(BarrierReported(self.now, side, state, position, presence, auto_close))

    @rule(side=st.sampled_from(Side), presence=st.booleans())
    def barrier_follows(self, side: Side, presence: bool) -> None:
        """The barrier finishes what it was commanded (a well-behaved device)."""
        motion = self.core.commanded[side]
        if motion == Motion.OPEN:
            self.feed(BarrierReported(self.now, side, BarrierState.OPEN, 100, presence))
        elif motion == Motion.CLOSE and not presence:
            self.feed(BarrierReported(self.now, side, BarrierState.CLOSED, 0))

    @rule(gross_kg=st.sampled_from([12000.0, 24500.0, 41000.0]))
    def truck_arrives(self, gross_kg: float) -> None:
        if self.traffic.arrive(gross_kg):
            self._sense_trucks()

    @rule(index=st.sampled_from([0, 1]), reckless=st.booleans())
    def truck_moves(self, index: int, reckless: bool) -> None:
        """A truck moves on (on its green, or reckless through an open arm)."""
        if self.traffic.move(index, self.core, reckless):
            self._sense_trucks()

    def _sense_trucks(self) -> None:
        self.feed(InputsChanged(self.now, self.traffic.inputs()))
        self.feed(WeightReported(self.now, self.traffic.load_kg(), motion=False))

    @rule(target=tags, tag=st.sampled_from(["E2000A", "E2000B", "E2000C"]))
    def new_tag(self, tag: str) -> str:
        return tag

    @rule(first=tags, second=st.none() | tags)
    def read_tags(self, first: str, second: str | None) -> None:
        epcs = (first,) if second is None else (first, second)
        self.feed(TagsRead(self.now, epcs))

    @rule(
        decision=st.sampled_from(Decision),
        declared=st.sampled_from([None, 24500, 10000]),
        stale=st.booleans(),
        plate=st.none() | st.sampled_from(PLATES[:2]),
    )
    def decide(
        self, decision: Decision, declared: int | None, stale: bool, plate: str | None
    ) -> None:
        request_id = "id-unknown" if stale or not self.requests else self.requests[-1]
        self.feed(ClearanceDecided(self.now, request_id, decision, declared, plate=plate))

    @rule(
        plate=st.sampled_from(PLATES),
        confidence=st.sampled_from([0.3, 0.79, 0.8, 0.97]),
        side=st.sampled_from([Side.ENTRY, Side.ENTRY, Side.EXIT]),
        resent=st.booleans(),
    )
    def camera_reads(self, plate: str, confidence: float, side: Side, resent: bool) -> None:
        """A read at any moment: early, late, out of order, resent (the same event id)."""
        if not (resent and self.reads):
            self.reads += 1
        event_id = f"cam-{self.reads}"
        self.feed(PlateReported(self.now, side, "cam", event_id, plate, "VN", confidence, "ab"))

    @rule(device=st.sampled_from(Device), healthy=st.booleans())
    def health(self, device: Device, healthy: bool) -> None:
        self.feed(DeviceHealthChanged(self.now, device, healthy))

    @rule(data=st.data())
    def fire_timer(self, data: st.DataObject) -> None:
        if not self.core.timers:
            return
        # ordered as the ids read, so a seeded campaign draws what it always drew
        timer_id = data.draw(st.sampled_from(sorted(self.core.timers, key=str)))
        self.now = max(self.now, self.core.timers[timer_id])
        self.feed(TimerExpired(self.now, timer_id))

    @rule()
    def journal_acks(self) -> None:
        if self.pending_commits:
            tid = self.pending_commits.pop(0)
            self.acked.add(tid)
            self.feed(TransactionCommitted(self.now, tid))

    def command(self, action: OperatorAction, role: Role, auth: bool, side: Side, tag: str) -> None:
        self.feed(OperatorCommanded(self.now, action, "tester", role, auth, side, tag))

    @rule(action=st.sampled_from(MODES), role=ROLES, auth=AUTH)
    def operator_mode(self, action: OperatorAction, role: Role, auth: bool) -> None:
        self.command(action, role, auth, Side.ENTRY, "E2000A")

    @rule(action=st.sampled_from(MANUAL), role=ROLES, auth=AUTH, side=st.sampled_from(Side))
    def operator_manual(self, action: OperatorAction, role: Role, auth: bool, side: Side) -> None:
        self.command(action, role, auth, side, "E2000A")

    @rule(
        action=st.sampled_from(OFFICER),
        role=ROLES,
        auth=AUTH,
        tag=st.sampled_from(["E2000A", "E2000D"]),
    )
    def operator_officer(self, action: OperatorAction, role: Role, auth: bool, tag: str) -> None:
        self.command(action, role, auth, Side.ENTRY, tag)

    @rule(side=st.sampled_from(Side), action=st.sampled_from(MANUAL), role=ROLES)
    def technician_at_an_occupied_arm(self, side: Side, action: OperatorAction, role: Role) -> None:
        """A scenario worth its own rule: maintenance while a vehicle stands at an arm."""
        self.command(A.MODE_MAINTENANCE, role, True, side, "E2000A")
        self.feed(InputsChanged(self.now, {f"{side.value}_arm_loop": True}))
        self.command(action, role, True, side, "E2000A")

    @rule(side=st.sampled_from(SIDES), then=st.none() | st.sampled_from([*MANUAL, PASSES]))
    def technician_opens_a_side(self, side: Side, then: OperatorAction | str | None) -> None:
        """A scenario worth its own rule: in maintenance a technician opens an arm, it
        reports fully open, and the technician shows green (trucks may be in the lane);
        then perhaps a vehicle passes under the arm, or, a moment later, the technician
        commands that side again (a close under the green)."""
        self.command(A.MODE_MAINTENANCE, Role.TECHNICIAN, True, side, "E2000A")
        self.command(A.BARRIER_OPEN, Role.TECHNICIAN, True, side, "E2000A")
        self.barrier_follows(side, presence=False)
        self.command(A.LIGHT_GREEN, Role.TECHNICIAN, True, side, "E2000A")
        loop = f"{side.value}_arm_loop"
        if then == PASSES:
            self.feed(InputsChanged(self.now, {loop: True}))
            self.advance(1.1)
            self.feed(InputsChanged(self.now, {loop: False}))
        elif isinstance(then, OperatorAction):
            self.advance(PARAMS.clear_hold_s + 0.1)
            self.command(then, Role.TECHNICIAN, True, side, "E2000A")

    # ------------------------------------------------------------------ invariants
    @invariant()
    def each_step_is_safe_as_the_field_sees_it(self) -> None:  # S2, S3 in every mode
        assert not self.broken, f"state {self.core.state}: {self.broken}"

    @invariant()
    def nothing_unsafe_left_the_core(self) -> None:
        assert not self.recorder.escaped, f"interlock let through: {self.recorder.escaped}"

    @invariant()
    def lane_is_safe_after_the_step(self) -> None:
        found = check_lane(self.core, self.now)
        assert not found, f"state {self.core.state}: {found}"

    @invariant()
    def fault_and_stale_data_mean_red(self) -> None:
        core = self.core
        if core.state in (LaneState.FAULT, LaneState.DEGRADED, LaneState.EMERGENCY):
            assert core.lights == (Aspect.RED, Aspect.RED)
        if not core.image.all_fresh and core.state != LaneState.BOOTING:
            assert Aspect.GREEN not in core.lights

    @invariant()
    def weight_captured_only_fully_on_deck(self) -> None:  # S4
        if any(isinstance(c, PublishEvent) and c.type == "weight_captured" for c in self.last):
            assert s4_capture(self.core, self.now) is None

    @invariant()
    def exit_opens_only_after_commit(self) -> None:  # S5, S10
        for command in self.last:
            if isinstance(command, MoveBarrier) and command.reason == MoveReason.RELEASE:
                deck = self.core.deck
                assert deck is not None
                assert deck.transaction_id in self.acked

    @invariant()
    def no_truck_admissible_against_its_plate(self) -> None:
        """A vehicle is admissible (its identity settled) while a confident read
        contradicts its clearance's plate only on an officer's word (issue 15: a wrong
        truck must not reach the deck); so is one admitted in this step."""
        approach = self.core.approach
        if approach is not None and approach.identity is not None:
            best = approach.best_read()
            if best is not None and approach.vouched_by is None:
                self._agrees_or_vouched(
                    best.plate, best.confidence, approach.expected_plate, approach.identity.method
                )
        admitted = any(
            isinstance(c, PublishEvent) and c.type == "vehicle_admitted" for c in self.last
        )
        deck = self.core.deck
        if admitted and deck is not None and deck.identity is not None:
            check = deck.identity
            self._agrees_or_vouched(
                check.plate, check.confidence, check.expected_plate, check.method
            )

    @staticmethod
    def _agrees_or_vouched(
        plate: str | None, confidence: float | None, expected: str | None, method: str
    ) -> None:
        confident = confidence is not None and confidence >= CAMERA.min_confidence
        if (
            confident
            and plate is not None
            and expected is not None
            and fold(plate) != fold(expected)
        ):
            assert method in ("officer", "plate+officer"), (
                f"admissible against its plate: {method=}"
            )

    @invariant()
    def nothing_before_boot(self) -> None:  # S9
        if self.core.state == LaneState.BOOTING:
            assert not any(isinstance(c, SetLights | MoveBarrier) for c in self.last)
