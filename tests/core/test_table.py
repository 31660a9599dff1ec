"""The transition table: exhaustive over (state, event kind), and its diagram is fresh."""

from __future__ import annotations

import inspect
import itertools
import re
from collections.abc import Callable, Sequence
from typing import get_type_hints

import pytest

from controller.core.commands import MoveBarrier, PersistFault, SetLights
from controller.core.events import (
    AdmissionCapacityChanged,
    BarrierReported,
    ClearanceDecided,
    DeviceHealthChanged,
    Event,
    InputsChanged,
    InvariantViolated,
    OperatorCommanded,
    PlateReported,
    TagsRead,
    TimerExpired,
    TransactionCommitFailed,
    TransactionCommitted,
    WeightReported,
)
from controller.core.lane import LaneCore
from controller.core.table import ENTRY, EXPIRY, GUARDS, TABLE, UNEXPECTED, WAKE_ONLY
from controller.core.timer_ids import STALL, TimerKind
from controller.core.types import (
    SIDES,
    Aspect,
    BarrierState,
    Decision,
    Device,
    EventKind,
    LaneState,
    Motion,
    OperatorAction,
    Role,
    Side,
)
from scripts.gen_state_diagram import OUT as DIAGRAM
from scripts.gen_state_diagram import render

NOW = 10.0


def sample_event(kind: EventKind) -> Event:
    """One representative event of each kind."""
    samples: dict[EventKind, Event] = {
        EventKind.INPUTS: InputsChanged(NOW, {"approach_loop": True}),
        EventKind.BARRIER: BarrierReported(NOW, Side.ENTRY, BarrierState.CLOSED, 0),
        EventKind.WEIGHT: WeightReported(NOW, 0.0, motion=False),
        EventKind.TAGS: TagsRead(NOW, ("E2000A",)),
        EventKind.PLATE: PlateReported(NOW, Side.ENTRY, "cam", "e-1", "51C12345", "VN", 0.9, "ab"),
        EventKind.DECISION: ClearanceDecided(NOW, "req-1", Decision.GRANT),
        EventKind.TIMER: TimerExpired(NOW, STALL),
        EventKind.HEALTH: DeviceHealthChanged(NOW, Device.SCALE, healthy=True),
        EventKind.COMMITTED: TransactionCommitted(NOW, "tx-unknown"),
        EventKind.COMMIT_FAILED: TransactionCommitFailed(NOW, "tx-unknown", "disk full"),
        EventKind.CAPACITY: AdmissionCapacityChanged(NOW, admissions_allowed=True),
        EventKind.VIOLATION: InvariantViolated(NOW, "S1", "closing onto presence"),
    }
    if kind in samples:
        return samples[kind]
    action = OperatorAction(kind.value.removeprefix("op_"))
    return OperatorCommanded(NOW, action, "tester", Role.OFFICER, True, Side.ENTRY, "E2000B")


def lane_in(state: LaneState) -> LaneCore:
    """A booted lane forced into `state` (the table must hold whatever led there)."""
    core = LaneCore(new_id=iter(f"id-{i}" for i in range(1000)).__next__)
    core.start(0.0)
    core.handle(InputsChanged(0.0, {}))
    for side in Side:
        core.handle(BarrierReported(0.0, side, BarrierState.CLOSED, 0))
    core.handle(WeightReported(0.0, 0.0, motion=False))
    core.handle(DeviceHealthChanged(0.0, Device.RFID, healthy=True))
    core.lane.state = state
    return core


PAIRS = list(itertools.product(LaneState, EventKind))


@pytest.mark.parametrize(("state", "kind"), PAIRS, ids=[f"{s}-{k}" for s, k in PAIRS])
def test_every_pair_is_listed_or_fails_closed(state: LaneState, kind: EventKind) -> None:
    core = lane_in(state)
    commands = core.handle(sample_event(kind))
    transition = TABLE.get((state, kind))
    if transition is None:
        assert core.state == LaneState.FAULT
        assert any(isinstance(c, PersistFault) and c.reason for c in commands)
        assert core.lights == (Aspect.RED, Aspect.RED)
        moves = [c for c in commands if isinstance(c, MoveBarrier)]
        assert all(m.motion in (Motion.STOP, Motion.OPEN) for m in moves)
    else:
        allowed = transition.targets | {state, LaneState.FAULT}
        assert core.state in allowed | _guard_targets(state, allowed)
    if core.state == LaneState.FAULT:
        assert not any(isinstance(c, SetLights) and Aspect.GREEN in (c.entry, c.exit)
                       for c in commands)  # fmt: skip


def _guard_targets(state: LaneState, reached: frozenset[LaneState]) -> set[LaneState]:
    found: set[LaneState] = set()
    for origin in reached:
        for guard in GUARDS.get(origin, ()):
            found |= guard.targets
    return found


def test_table_lists_failure_for_impossible_records() -> None:
    assert (LaneState.IDLE, EventKind.COMMITTED) not in TABLE
    core = lane_in(LaneState.IDLE)
    core.handle(TransactionCommitted(NOW, "tx-from-nowhere"))
    assert core.state == LaneState.FAULT
    assert core.latched_fault is not None
    assert "transaction_committed" in core.latched_fault


def _references() -> Sequence[Callable[..., object]]:
    guards = [guard.check for guards in GUARDS.values() for guard in guards]
    return [*(t.handler for t in TABLE.values()), *guards, *ENTRY.values(), *EXPIRY.values()]


def test_every_pair_is_listed_or_deliberately_unexpected() -> None:
    listed = set(TABLE)
    assert not listed & UNEXPECTED
    assert listed | UNEXPECTED == set(PAIRS)


def test_every_reference_is_the_method_the_core_resolves() -> None:
    # a reference to an overridden method (Operator.op_mode_auto under Modes's) would
    # skip the override: the table must hold what LaneCore itself would call
    for function in _references():
        assert getattr(LaneCore, function.__name__) is function, function.__qualname__


def test_no_handler_guard_or_entry_action_is_dead() -> None:
    pattern = re.compile(r"(on|op|g|enter|t)_\w+|ignore|refuse")
    defined = {name for name in dir(LaneCore) if pattern.fullmatch(name)}
    assert defined == {function.__name__ for function in _references()}


def test_each_handler_takes_the_event_of_its_kind() -> None:
    for (state, kind), transition in TABLE.items():
        event_parameter = list(inspect.signature(transition.handler).parameters)[1]
        accepted = get_type_hints(transition.handler)[event_parameter]
        assert isinstance(sample_event(kind), accepted), (state, kind, transition.name)


def test_every_timer_kind_has_its_expiry_or_only_wakes_a_step() -> None:
    assert not set(EXPIRY) & WAKE_ONLY
    assert set(EXPIRY) | WAKE_ONLY == set(TimerKind)


def test_each_entry_action_is_its_states() -> None:
    for state, action in ENTRY.items():
        assert action.__name__ == f"enter_{state.value}"


def test_state_diagram_is_fresh() -> None:
    assert DIAGRAM.read_text() == render(), "run: make docs (scripts/gen_state_diagram.py)"


def test_the_core_iterates_every_side() -> None:
    # the core loops over SIDES, not the Enum, on every step: a side missing there would
    # be a side never driven, lit or monitored
    assert tuple(Side) == SIDES
