"""The lane's transitions as data.

`TABLE[(state, event kind)]` names the handler that deals with that event in that state
and the states it may move the lane to. A pair that is not listed moves the lane to FAULT
with safe commands (fail closed, as h2 does); a handler that tries to reach a state its
entry does not list does the same. Operator commands that make no sense in a state are
listed with `refuse`: refusing is their fail-closed answer (nothing moves, it is audited).

`GUARDS[state]` lists the level-triggered progress checks evaluated after every event in
that state (a PLC-style scan), each with the states it may lead to. docs/lane-states.md is
generated from both by scripts/gen_state_diagram.py.
"""

from __future__ import annotations

from dataclasses import dataclass

from controller.core.types import OPERATOR_KINDS, EventKind, LaneState

S = LaneState
K = EventKind


@dataclass(frozen=True, slots=True)
class Transition:
    handler: str
    targets: frozenset[LaneState] = frozenset()


def _t(handler: str, *targets: LaneState) -> Transition:
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
SENSE = (K.INPUTS, K.BARRIER, K.WEIGHT)


def _build() -> dict[tuple[LaneState, EventKind], Transition]:
    table: dict[tuple[LaneState, EventKind], Transition] = {}
    # every operator command is answered in every state: refused unless listed below
    for state in LaneState:
        for kind in OPERATOR_KINDS:
            table[state, kind] = _t("refuse")
        table[state, K.CAPACITY] = _t("on_capacity")
        table[state, K.VIOLATION] = _t("on_violation", S.FAULT)
    for kind in (*SENSE, K.HEALTH):
        table[S.BOOTING, kind] = _t(
            "on_boot_report", S.CLEARING, S.RELEASING, S.HOLD, S.FAULT, S.MAINTENANCE, S.EMERGENCY
        )
    table[S.BOOTING, K.TIMER] = _t("on_timer", S.FAULT)
    table[S.BOOTING, K.TAGS] = _t("ignore")
    table[S.BOOTING, K.DECISION] = _t("ignore")
    for state in ACTIVE:
        _active(table, state)
    table[S.COMMITTING, K.COMMITTED] = _t("on_committed", S.RELEASING)
    table[S.COMMITTING, K.COMMIT_FAILED] = _t("on_commit_failed", S.FAULT)
    table[S.IDLE, K.OP_MODE_CLOSED] = _t("op_mode_closed", S.CLOSED)
    table[S.CLOSED, K.OP_MODE_AUTO] = _t("op_mode_auto", S.IDLE)
    for state in (S.IDLE, S.CLOSED, S.HOLD, S.CLEARING):
        table[state, K.OP_MODE_MAINTENANCE] = _t("op_mode_maintenance", S.MAINTENANCE)
    for state in (*BUSY, S.DEGRADED):  # a vehicle in process: after it has left
        table[state, K.OP_MODE_MAINTENANCE] = _t("op_defer_maintenance")
    table[S.HOLD, K.OP_RELEASE] = _t("op_release", S.COMMITTING, S.RELEASING)
    table[S.HOLD, K.OP_REJECT] = _t("op_reject", S.COMMITTING)
    _degraded(table)
    _latched(table, S.FAULT)
    _latched(table, S.EMERGENCY)
    table[S.FAULT, K.OP_RESET] = _t("op_reset", S.HOLD, S.CLEARING, S.MAINTENANCE)
    table[S.EMERGENCY, K.OP_MODE_AUTO] = _t("op_end_emergency", S.FAULT)
    _maintenance(table)
    for state in LaneState:
        if state != S.BOOTING:
            table[state, K.OP_MODE_EMERGENCY] = _t("op_emergency", S.EMERGENCY)
        table[state, K.OP_ACK] = _t("op_ack")  # an officer acknowledges an alarm
    return table


def _active(table: dict[tuple[LaneState, EventKind], Transition], state: LaneState) -> None:
    for kind in SENSE:
        table[state, kind] = _t("on_sense", S.HOLD, S.FAULT)
    table[state, K.TAGS] = _t("on_tags")
    table[state, K.DECISION] = _t("on_decision")
    table[state, K.TIMER] = _t("on_timer", S.HOLD, S.FAULT)
    table[state, K.HEALTH] = _t("on_health", S.DEGRADED)
    table[state, K.OP_IDENTIFY] = _t("op_identify")
    if state in AUTO_DECK:
        table[state, K.OP_MODE_CLOSED] = _t("op_mode_closed")  # drain: finish, admit no more
        table[state, K.OP_MODE_AUTO] = _t("op_mode_auto")  # cancels a drain


def _degraded(table: dict[tuple[LaneState, EventKind], Transition]) -> None:
    for kind in SENSE:
        table[S.DEGRADED, kind] = _t("on_sense", S.FAULT)
    table[S.DEGRADED, K.TAGS] = _t("on_tags")
    table[S.DEGRADED, K.DECISION] = _t("on_decision")
    table[S.DEGRADED, K.TIMER] = _t("on_timer", S.FAULT)
    table[S.DEGRADED, K.HEALTH] = _t("on_health", *RESUMABLE)
    table[S.DEGRADED, K.COMMITTED] = _t("on_committed")
    table[S.DEGRADED, K.COMMIT_FAILED] = _t("on_commit_failed", S.FAULT)


def _latched(table: dict[tuple[LaneState, EventKind], Transition], state: LaneState) -> None:
    """FAULT and EMERGENCY: the workflow is off; sensing, timers and records go on."""
    for kind in SENSE:
        table[state, kind] = _t("on_sense")
    table[state, K.TAGS] = _t("ignore")
    table[state, K.DECISION] = _t("ignore")
    table[state, K.TIMER] = _t("on_timer")
    table[state, K.HEALTH] = _t("on_health")
    table[state, K.COMMITTED] = _t("on_committed")
    table[state, K.COMMIT_FAILED] = _t("on_commit_failed")


def _maintenance(table: dict[tuple[LaneState, EventKind], Transition]) -> None:
    m = S.MAINTENANCE
    for kind in SENSE:
        table[m, kind] = _t("on_sense", S.FAULT)
    table[m, K.TAGS] = _t("ignore")
    table[m, K.DECISION] = _t("ignore")
    table[m, K.TIMER] = _t("on_timer", S.FAULT)
    table[m, K.HEALTH] = _t("on_health", S.DEGRADED)
    table[m, K.OP_MODE_AUTO] = _t("op_mode_auto", S.CLEARING, S.HOLD)
    table[m, K.OP_MODE_CLOSED] = _t("op_mode_closed", S.CLEARING, S.HOLD)
    for kind in (K.OP_BARRIER_OPEN, K.OP_BARRIER_CLOSE, K.OP_BARRIER_STOP):
        table[m, kind] = _t("op_barrier")
    for kind in (K.OP_LIGHT_RED, K.OP_LIGHT_GREEN):
        table[m, kind] = _t("op_light")


TABLE = _build()


@dataclass(frozen=True, slots=True)
class Guard:
    check: str
    targets: frozenset[LaneState]


def _g(check: str, *targets: LaneState) -> Guard:
    return Guard(check, frozenset(targets))


GUARDS: dict[LaneState, tuple[Guard, ...]] = {
    S.IDLE: (
        _g("g_mode_due", S.MAINTENANCE),
        _g("g_intruder", S.HOLD),
        _g("g_admit", S.ADMITTING),
    ),
    S.ADMITTING: (_g("g_held", S.HOLD), _g("g_entry_open", S.ENTERING)),
    S.ENTERING: (_g("g_held", S.HOLD), _g("g_entry_passed", S.WEIGHING)),
    S.WEIGHING: (_g("g_held", S.HOLD), _g("g_weigh", S.COMMITTING, S.HOLD)),
    S.RELEASING: (_g("g_left_backwards", S.CLEARING), _g("g_exit_open", S.LEAVING)),
    S.LEAVING: (
        _g("g_left_backwards", S.CLEARING),
        _g("g_vehicle_left", S.CLEARING, S.HOLD),
    ),
    S.CLEARING: (_g("g_closed_up", S.IDLE, S.CLOSED, S.MAINTENANCE),),
    S.CLOSED: (_g("g_mode_due", S.MAINTENANCE), _g("g_intruder", S.HOLD)),
}
