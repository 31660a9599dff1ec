"""The lane's transitions as data: everything that decides the state machine is here.

`TABLE[(state, event kind)]` holds the handler that deals with that event in that state
and the states it may move the lane to. A pair that is not listed moves the lane to FAULT
with safe commands (fail closed, as h2 does); a handler that tries to reach a state its
entry does not list does the same. Operator commands that make no sense in a state are
listed with `refuse`: refusing is their fail-closed answer (nothing moves, it is audited).
The only pairs left out are listed in `UNEXPECTED`: a record acknowledged where no
commit can be in flight (S10).

`GUARDS[state]` lists the level-triggered progress checks evaluated after every event in
that state (a PLC-style scan), each with the states it may lead to; `ENTRY[state]` is the
action run on entering a state. Each entry holds the function itself (as the class that
implements it, in LaneCore's method resolution order, defines it), so dispatch never
looks a name up; its `__name__` labels it in docs/lane-states.md, generated from the
table by scripts/gen_state_diagram.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from controller.core.acknowledge import Acknowledge
from controller.core.base import LaneBase
from controller.core.clearance import Clearance
from controller.core.confirmation import Confirmation
from controller.core.crosscheck import CrossCheck, Rule
from controller.core.departure import Departure
from controller.core.faults import Faults
from controller.core.handlers import Handlers
from controller.core.identification import Identification
from controller.core.manual import ManualControl
from controller.core.modes import Modes
from controller.core.operator import Operator
from controller.core.timer_ids import TimerId, TimerKind
from controller.core.types import OPERATOR_KINDS, EventKind, LaneState, PlateEvidence, Verdict
from controller.core.weighing import Weighing
from controller.core.workflow import Workflow

if TYPE_CHECKING:
    from controller.core.lane import LaneCore

S = LaneState
K = EventKind

# the event is the class of its kind (test_table checks each handler's annotation)
Handler = Callable[["LaneCore", Any], LaneState | None]
Check = Callable[["LaneCore", float], LaneState | None]
EntryAction = Callable[["LaneCore", float], None]
Expiry = Callable[["LaneCore", TimerId, float], LaneState | None]


@dataclass(frozen=True, slots=True)
class Transition:
    handler: Handler
    targets: frozenset[LaneState] = frozenset()

    @property
    def name(self) -> str:
        return self.handler.__name__


def _t(handler: Handler, *targets: LaneState) -> Transition:
    return Transition(handler, frozenset(targets))


AUTO_DECK = (
    S.IDLE,
    S.ADMITTING,
    S.ENTERING,
    S.WEIGHING,
    S.COMMITTING,
    S.RELEASING,
    S.LEAVING,
    S.CLEARING,
)
ACTIVE = (*AUTO_DECK, S.CLOSED, S.HOLD)
RESUMABLE = frozenset((*ACTIVE, S.MAINTENANCE))
BUSY = (S.ADMITTING, S.ENTERING, S.WEIGHING, S.COMMITTING, S.RELEASING, S.LEAVING)
BOOT_TARGETS = (S.CLEARING, S.RELEASING, S.HOLD, S.FAULT, S.MAINTENANCE, S.EMERGENCY)
SENSE = (K.INPUTS, K.BARRIER, K.WEIGHT)


def _build() -> dict[tuple[LaneState, EventKind], Transition]:
    table: dict[tuple[LaneState, EventKind], Transition] = {}
    # every operator command is answered in every state: refused unless listed below
    for state in LaneState:
        for kind in OPERATOR_KINDS:
            table[state, kind] = _t(Operator.refuse)
        table[state, K.CAPACITY] = _t(Handlers.on_capacity)
        table[state, K.VIOLATION] = _t(Faults.on_violation, S.FAULT)
    for kind in (*SENSE, K.HEALTH):
        table[S.BOOTING, kind] = _t(Handlers.on_boot_report, *BOOT_TARGETS)
    table[S.BOOTING, K.TIMER] = _t(Handlers.on_timer, S.FAULT)
    table[S.BOOTING, K.TAGS] = _t(Handlers.ignore)
    table[S.BOOTING, K.PLATE] = _t(CrossCheck.on_plate)  # kept for the truck found at boot
    table[S.BOOTING, K.DECISION] = _t(Handlers.ignore)
    for state in ACTIVE:
        _active(table, state)
    table[S.COMMITTING, K.COMMITTED] = _t(Handlers.on_committed, S.RELEASING)
    table[S.COMMITTING, K.COMMIT_FAILED] = _t(Faults.on_commit_failed, S.FAULT)
    table[S.IDLE, K.OP_MODE_CLOSED] = _t(Modes.op_mode_closed, S.CLOSED)
    table[S.CLOSED, K.OP_MODE_AUTO] = _t(Modes.op_mode_auto, S.IDLE)
    for state in (S.IDLE, S.CLOSED, S.HOLD, S.CLEARING):
        table[state, K.OP_MODE_MAINTENANCE] = _t(Operator.op_mode_maintenance, S.MAINTENANCE)
    for state in (*BUSY, S.DEGRADED):  # a vehicle in process: after it has left
        table[state, K.OP_MODE_MAINTENANCE] = _t(Modes.op_defer_maintenance)
    table[S.HOLD, K.OP_RELEASE] = _t(Operator.op_release, S.COMMITTING, S.RELEASING)
    table[S.HOLD, K.OP_REJECT] = _t(Operator.op_reject, S.COMMITTING)
    _degraded(table)
    _latched(table, S.FAULT)
    _latched(table, S.EMERGENCY)
    table[S.FAULT, K.OP_RESET] = _t(Modes.op_reset, S.HOLD, S.CLEARING, S.MAINTENANCE)
    table[S.EMERGENCY, K.OP_MODE_AUTO] = _t(Modes.op_end_emergency, S.FAULT)
    _maintenance(table)
    for state in LaneState:
        if state != S.BOOTING:
            table[state, K.OP_MODE_EMERGENCY] = _t(Modes.op_emergency, S.EMERGENCY)
        table[state, K.OP_ACK] = _t(Acknowledge.op_ack)  # an officer acknowledges an alarm
    return table


def _active(table: dict[tuple[LaneState, EventKind], Transition], state: LaneState) -> None:
    for kind in SENSE:
        table[state, kind] = _t(Handlers.on_sense, S.HOLD, S.FAULT)
    table[state, K.TAGS] = _t(Identification.on_tags)
    table[state, K.PLATE] = _t(CrossCheck.on_plate)
    table[state, K.DECISION] = _t(Clearance.on_decision)
    table[state, K.TIMER] = _t(Handlers.on_timer, S.HOLD, S.FAULT)
    table[state, K.HEALTH] = _t(Handlers.on_health, S.DEGRADED)
    table[state, K.OP_IDENTIFY] = _t(Operator.op_identify)
    table[state, K.OP_CONFIRM] = _t(Confirmation.op_confirm)
    table[state, K.OP_REFUSE] = _t(Confirmation.op_refuse)
    if state in AUTO_DECK:
        table[state, K.OP_MODE_CLOSED] = _t(Modes.op_mode_closed)  # drain: finish, admit no more
        table[state, K.OP_MODE_AUTO] = _t(Modes.op_mode_auto)  # cancels a drain


def _degraded(table: dict[tuple[LaneState, EventKind], Transition]) -> None:
    for kind in SENSE:
        table[S.DEGRADED, kind] = _t(Handlers.on_sense, S.FAULT)
    table[S.DEGRADED, K.TAGS] = _t(Identification.on_tags)
    table[S.DEGRADED, K.PLATE] = _t(CrossCheck.on_plate)
    table[S.DEGRADED, K.DECISION] = _t(Clearance.on_decision)
    table[S.DEGRADED, K.TIMER] = _t(Handlers.on_timer, S.FAULT)
    table[S.DEGRADED, K.HEALTH] = _t(Handlers.on_health, *RESUMABLE)
    table[S.DEGRADED, K.COMMITTED] = _t(Handlers.on_committed)
    table[S.DEGRADED, K.COMMIT_FAILED] = _t(Faults.on_commit_failed, S.FAULT)


def _latched(table: dict[tuple[LaneState, EventKind], Transition], state: LaneState) -> None:
    """FAULT and EMERGENCY: the workflow is off; sensing, timers and records go on."""
    for kind in SENSE:
        table[state, kind] = _t(Handlers.on_sense)
    table[state, K.TAGS] = _t(Handlers.ignore)
    table[state, K.PLATE] = _t(CrossCheck.on_plate_ignored)
    table[state, K.DECISION] = _t(Handlers.ignore)
    table[state, K.TIMER] = _t(Handlers.on_timer)
    table[state, K.HEALTH] = _t(Handlers.on_health)
    table[state, K.COMMITTED] = _t(Handlers.on_committed)
    table[state, K.COMMIT_FAILED] = _t(Faults.on_commit_failed)


def _maintenance(table: dict[tuple[LaneState, EventKind], Transition]) -> None:
    m = S.MAINTENANCE
    for kind in SENSE:
        table[m, kind] = _t(Handlers.on_sense, S.FAULT)
    table[m, K.TAGS] = _t(Handlers.ignore)
    table[m, K.PLATE] = _t(CrossCheck.on_plate_ignored)
    table[m, K.DECISION] = _t(Handlers.ignore)
    table[m, K.TIMER] = _t(Handlers.on_timer, S.FAULT)
    table[m, K.HEALTH] = _t(Handlers.on_health, S.DEGRADED)
    table[m, K.OP_MODE_AUTO] = _t(Modes.op_mode_auto, S.CLEARING, S.HOLD)
    table[m, K.OP_MODE_CLOSED] = _t(Modes.op_mode_closed, S.CLEARING, S.HOLD)
    for kind in (K.OP_BARRIER_OPEN, K.OP_BARRIER_CLOSE, K.OP_BARRIER_STOP):
        table[m, kind] = _t(Operator.op_barrier)
    for kind in (K.OP_LIGHT_RED, K.OP_LIGHT_GREEN):
        table[m, kind] = _t(Operator.op_light)


TABLE = _build()

# a commit acknowledged where none can be in flight: S10, the lane fails closed
UNEXPECTED = frozenset(
    (state, kind)
    for state in LaneState
    for kind in (K.COMMITTED, K.COMMIT_FAILED)
    if state not in (S.COMMITTING, S.DEGRADED, S.FAULT, S.EMERGENCY)
)


@dataclass(frozen=True, slots=True)
class Guard:
    check: Check
    targets: frozenset[LaneState]

    @property
    def name(self) -> str:
        return self.check.__name__


def _g(check: Check, *targets: LaneState) -> Guard:
    return Guard(check, frozenset(targets))


GUARDS: dict[LaneState, tuple[Guard, ...]] = {
    S.IDLE: (
        _g(Modes.g_mode_due, S.MAINTENANCE),
        _g(Workflow.g_intruder, S.HOLD),
        _g(Workflow.g_admit, S.ADMITTING),
    ),
    S.ADMITTING: (_g(Workflow.g_held, S.HOLD), _g(Workflow.g_entry_open, S.ENTERING)),
    S.ENTERING: (_g(Workflow.g_held, S.HOLD), _g(Workflow.g_entry_passed, S.WEIGHING)),
    S.WEIGHING: (_g(Workflow.g_held, S.HOLD), _g(Weighing.g_weigh, S.COMMITTING, S.HOLD)),
    S.RELEASING: (_g(Departure.g_left_backwards, S.CLEARING), _g(Departure.g_exit_open, S.LEAVING)),
    S.LEAVING: (
        _g(Departure.g_left_backwards, S.CLEARING),
        _g(Departure.g_vehicle_left, S.CLEARING, S.HOLD),
    ),
    S.CLEARING: (_g(Workflow.g_closed_up, S.IDLE, S.CLOSED, S.MAINTENANCE),),
    S.CLOSED: (_g(Modes.g_mode_due, S.MAINTENANCE), _g(Workflow.g_intruder, S.HOLD)),
}

ENTRY: dict[LaneState, EntryAction] = {
    S.FAULT: Faults.enter_fault,
    S.WEIGHING: Weighing.enter_weighing,
    S.HOLD: Workflow.enter_hold,
    S.DEGRADED: Workflow.enter_degraded,
    S.MAINTENANCE: Modes.enter_maintenance,
}

T = TimerKind
# what a timer's expiry does, by kind (on_timer, once it is the armed deadline)
EXPIRY: dict[TimerKind, Expiry] = {
    T.BOOT: Faults.t_boot,
    T.CLEARANCE: Clearance.t_clearance,
    T.CLEARANCE_RETRY: Clearance.t_clearance_retry,
    T.PLATE_WAIT: CrossCheck.t_plate_wait,
    T.POSITION: Weighing.t_position,
    T.STALL: Handlers.t_stall,
    T.SETTLE: LaneBase.t_settle,
    T.STROKE_START: Faults.t_stroke,
    T.STROKE: Faults.t_stroke,
    T.STOP: Faults.t_stop,
    T.CLOSE_AFTER_RED: ManualControl.t_close_after_red,
    T.LAMP: Faults.t_lamp,
    T.LATCH: Faults.t_latch,
}
# timers whose expiry is only a step: the output stage sends the close waiting behind
# its red, the sensor image sees presence cleared long enough
WAKE_ONLY = frozenset({T.RED_SETTLE, T.CLEAR_HOLD})

P, V = PlateEvidence, Verdict
# the tag against the entry camera's plate (crosscheck.py): what follows from what the
# camera says, and the identity method the transaction records
CROSS_CHECK: dict[PlateEvidence, Rule] = {
    P.AGREES: (V.PROCEED, "tag+plate"),
    P.LOOKALIKE: (V.MARKED, "tag+plate_lookalike"),  # 0/O, 8/B ...: the read, not the truck
    P.DISAGREES: (V.HOLD, "identity_mismatch"),  # a wrong truck must not reach the deck
    P.UNSURE: (V.MARKED, "tag_only:plate_unsure"),
    P.MISSED: (V.MARKED, "tag_only:plate_missed"),
    P.UNNAMED: (V.MARKED, "tag_only:no_plate_on_file"),
    P.PENDING: (V.WAIT, "pending"),
}
