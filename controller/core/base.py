"""The lane's state and the small helpers every part of the core uses.

The core is split by concern into mixins over this base: event handlers (handlers.py),
operator commands and modes (operator.py, modes.py), one module per behaviour
(identification, clearance, weighing, departure, faults, crossings), the workflow's
progress guards and levels (workflow.py), and the step with its output stage and
interlock (lane.py). What they share is the lane's one state record, `self.lane`
(record.py), its sensor image and its configuration; the properties below are what
others read of it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from controller.core.alarms import WATCHED, Alarm, Clears, cause_over
from controller.core.commands import (
    CancelTimer,
    ClearAlarm,
    Command,
    CommitTransaction,
    PublishEvent,
    RaiseAlarm,
    SaveContext,
    SetInventory,
    StartTimer,
)
from controller.core.image import SensorImage
from controller.core.interlock import Interlock
from controller.core.params import LaneParams
from controller.core.record import LaneRecord
from controller.core.timer_ids import (
    CLEARANCE,
    PLATE_WAIT,
    SETTLE_DATA_STALE,
    STALL,
    TimerId,
    TimerKind,
)
from controller.core.types import (
    ApproachStage,
    Aspect,
    LaneState,
    Mode,
    Motion,
    Outcome,
    Side,
)
from controller.core.vehicles import ApproachVehicle, DeckVehicle

TimerExpiry = Callable[[Any, TimerId, float], LaneState | None]


class LaneBase:
    # each state's entry action, from the table (table.ENTRY, bound by LaneCore)
    entry_actions: ClassVar[Mapping[LaneState, Callable[[Any, float], None]]] = {}
    # what each kind of timer does when it expires (table.EXPIRY, bound by LaneCore)
    expiry_actions: ClassVar[Mapping[TimerKind, TimerExpiry]] = {}
    # crosscheck.py: a vehicle has arrived at the approach (it takes its plate reads)
    approach_opened: Callable[[ApproachVehicle, float], None]

    def __init__(self, params: LaneParams, new_id: Callable[[], str], interlock: Interlock) -> None:
        self.params = params
        self.new_id = new_id
        self.interlock = interlock
        self.image = SensorImage(params)
        self.lane = LaneRecord()

    # ------------------------------------------------------------------ read by others
    # the interlock's and monitors' view (invariants.LaneView), the runtime and the tests
    @property
    def state(self) -> LaneState:
        return self.lane.state

    @property
    def deck(self) -> DeckVehicle | None:
        return self.lane.deck

    @property
    def approach(self) -> ApproachVehicle | None:
        return self.lane.approach

    @property
    def lights(self) -> tuple[Aspect, Aspect]:
        return self.lane.lights

    @property
    def signs(self) -> tuple[bool, bool]:
        return self.lane.signs

    @property
    def commanded(self) -> dict[Side, Motion | None]:
        return self.lane.commanded

    @property
    def manual_lights(self) -> dict[Side, Aspect]:
        return self.lane.manual_lights

    @property
    def latched_fault(self) -> str | None:
        return self.lane.latched_fault

    @property
    def mode(self) -> Mode:
        return self.lane.mode

    @property
    def timers(self) -> dict[TimerId, float]:
        return self.lane.timers

    @property
    def standing(self) -> dict[str, Alarm]:
        return self.lane.standing

    @property
    def conditions(self) -> dict[str, str]:
        return self.lane.conditions

    # ------------------------------------------------------------------ outputs
    def emit(self, command: Command) -> None:
        self.lane.out.append(command)

    def event(self, type_: str, **data: object) -> None:
        self.lane.out.append(PublishEvent(type_, data))

    def alarm(self, code: str, message: str, clears: Clears = Clears.ON_ACK) -> None:
        """Raise `code`, standing until `clears` says its cause has ended (alarms.py)."""
        if code in CONDITION_ALARMS:
            if code in self.lane.conditions:
                return  # still standing: one alarm per condition, not one per flap
            self.lane.conditions[code] = message
            clears = Clears.CONDITION
        tid = None if self.lane.deck is None else self.lane.deck.transaction_id
        self.lane.standing[code] = Alarm(
            code, message, self.image.now, clears, tid, self.lane.state
        )
        self.lane.out.append(RaiseAlarm(code, message))
        self.event("alarm", code=code, message=message)

    def clear_condition(self, code: str) -> None:
        if self.lane.conditions.pop(code, None) is not None:
            self.drop_alarm(code)

    def drop_alarm(self, code: str, **detail: object) -> None:
        self.lane.standing.pop(code, None)
        self.emit(ClearAlarm(code))
        self.event("alarm_cleared", code=code, **detail)

    def watch_alarms(self) -> None:
        """Clear every standing alarm whose cause has ended (each one's rule is named
        where it is raised)."""
        ended = [a.code for a in self.lane.standing.values() if a.clears in WATCHED]
        for code in ended:
            if cause_over(self, self.lane.standing[code]):
                self.drop_alarm(code)

    def watch_conditions(self, now: float) -> None:
        """data_stale stands until every device has been fresh for ALARM_SETTLE_S (an I/O
        link that drops every other second is one alarm, not one a second); lane_held
        until the lane leaves holding for good; clearance_timeout until the waiting
        vehicle has its answer or is gone (its requests are retried meanwhile)."""
        if "data_stale" in self.lane.conditions:
            settling = SETTLE_DATA_STALE in self.lane.timers
            if self.image.all_fresh and not settling:
                self.start_timer(SETTLE_DATA_STALE, now + ALARM_SETTLE_S)
            elif not self.image.all_fresh and settling:
                self.cancel_timer(SETTLE_DATA_STALE)
        if "lane_held" in self.lane.conditions and self.lane.state not in HOLDING:
            self.clear_condition("lane_held")
        if "clearance_timeout" in self.lane.conditions and not self._awaiting_clearance():
            self.clear_condition("clearance_timeout")

    def t_settle(self, timer: TimerId, now: float) -> LaneState | None:
        """data_stale's settling time is over: cleared if every device is still fresh."""
        if self.image.all_fresh:
            self.clear_condition("data_stale")
        return None

    def _awaiting_clearance(self) -> bool:
        approach = self.lane.approach
        waiting = (ApproachStage.REQUESTED, ApproachStage.TIMED_OUT)
        return approach is not None and approach.stage in waiting

    def start_timer(self, timer_id: TimerId, deadline: float) -> None:
        self.lane.timers[timer_id] = deadline
        self.lane.out.append(StartTimer(timer_id, deadline))

    def cancel_timer(self, timer_id: TimerId) -> None:
        if self.lane.timers.pop(timer_id, None) is not None:
            self.lane.out.append(CancelTimer(timer_id))

    def save_context(self) -> None:
        self.lane.out.append(
            SaveContext(None if self.lane.deck is None else self.lane.deck.context())
        )

    def drop_approach(self) -> None:
        if self.lane.approach is not None:
            self.lane.approach = None
            self.cancel_timer(CLEARANCE)
            self.cancel_timer(PLATE_WAIT)
            self.emit(SetInventory(active=False))

    @property
    def working_state(self) -> LaneState:
        """The state, or in DEGRADED the one it will resume: what a sensor edge seen
        while another device is stale means. An edge is consumed when it is seen; one
        ignored because the lane was DEGRADED would never come again (a vehicle that
        reached the entry arm then was never marked as past it, and the entry turned
        green again behind it on resume)."""
        if self.lane.state == LaneState.DEGRADED and self.lane.resume_state is not None:
            return self.lane.resume_state
        return self.lane.state

    def rearm_approach(self, now: float, **why: object) -> None:
        """A truck is standing on the approach loop and nobody is identifying it (the
        lane booted under it, or a fault or a mode dropped it): start again, as if it had
        just arrived. Without this it would wait unidentified until it drove off."""
        if self.lane.approach is not None or not self.image.approach_occupied:
            return
        self.lane.approach = approach = ApproachVehicle(started_at=now)
        self.emit(SetInventory(active=True))
        self.event("vehicle_approached", **why)
        self.approach_opened(approach, now)

    def commit(self, deck: DeckVehicle, outcome: Outcome, reason: str, now: float) -> LaneState:
        deck.outcome = outcome
        deck.times.setdefault("decided", now)
        self.emit(CommitTransaction(deck.record(self.params.lane_id, outcome, reason)))
        return LaneState.COMMITTING

    # ------------------------------------------------------------------ state changes
    def go(self, target: LaneState, now: float) -> None:
        """Enter `target` (already validated against the table) and run its entry actions."""
        if target == LaneState.FAULT:  # a reset returns a technician's lane to maintenance
            self.lane.faulted_in = self.working_state
        previous, self.lane.state = self.lane.state, target
        self.event("state_changed", previous=previous.value, state=target.value)
        if previous in APPROACH_DROPPED and target not in APPROACH_DROPPED:
            self.rearm_approach(now, again=True)
        if self.lane.deck is not None:
            self.lane.deck.stage = target
            self.lane.deck.times.setdefault(target.value, now)
            self.save_context()  # the deck vehicle's context is journaled at each stage change
        entry = self.entry_actions.get(target)
        if entry is not None:
            entry(self, now)
        if target in STALL_WATCHED:
            self.start_timer(STALL, now + self.params.stall_alarm_s)
        else:
            self.cancel_timer(STALL)

    def fail(self, now: float, reason: str) -> None:
        """Fail closed: FAULT with safe outputs (lights red, strokes halted), latched."""
        if self.lane.state == LaneState.FAULT:
            self.event("fault_while_faulted", reason=reason)
            return
        self.lane.fault_reason = reason
        self.go(LaneState.FAULT, now)


# states whose entry (or whose commands) drop the approach vehicle: leaving one for a
# working state identifies a truck still standing on the approach loop again
APPROACH_DROPPED = frozenset(
    {LaneState.FAULT, LaneState.MAINTENANCE, LaneState.EMERGENCY, LaneState.CLOSED}
)
# alarms for a condition rather than an incident: raised once, cleared when it is over
CONDITION_ALARMS = frozenset(
    {"data_stale", "lane_held", "clearance_timeout", "plate_reads_missing"}
)
ALARM_SETTLE_S = 5.0
# a held lane stays held through a data loss or a fault and its reset back to HOLD
HOLDING = frozenset({LaneState.HOLD, LaneState.DEGRADED, LaneState.FAULT})
STALL_WATCHED = frozenset(
    {
        LaneState.BOOTING,
        LaneState.ADMITTING,
        LaneState.ENTERING,
        LaneState.WEIGHING,
        LaneState.COMMITTING,
        LaneState.RELEASING,
        LaneState.LEAVING,
        LaneState.CLEARING,
    }
)
