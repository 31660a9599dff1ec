"""Event handlers: what each device, timer and record event means for the lane.

Each handler the table holds takes the event and returns the state to move to, or None
to stay. Handlers record facts (edges, decisions, health) and propose the few commands
that are edge-triggered (clearance requests, timers, alarms); barrier motions and lights
are level-triggered and come from the output stage in lane.py. Tags and decisions are
answered where their behaviour lives (identification.py, clearance.py), a vehicle
leaving backwards is recognised in departure.py.
"""

from __future__ import annotations

from collections.abc import Callable

from controller.core.alarms import Clears
from controller.core.commands import ClearAlarm, DisableAutoClose
from controller.core.departure import Departure
from controller.core.events import (
    AdmissionCapacityChanged,
    BarrierReported,
    DeviceHealthChanged,
    Event,
    TimerExpired,
    TransactionCommitted,
)
from controller.core.faults import Faults
from controller.core.identification import Identification
from controller.core.manual import ManualControl
from controller.core.timer_ids import (
    BOOT,
    TimerId,
    TimerKind,
    at,
    latch,
)
from controller.core.types import (
    SIDES,
    Device,
    LaneState,
    Side,
)
from controller.core.vehicles import DeckVehicle


class Handlers(ManualControl, Departure, Identification, Faults):
    boot_target: Callable[[LaneState], LaneState]  # modes.py: where the journaled mode boots

    def ignore(self, event: Event) -> LaneState | None:
        return None

    # ------------------------------------------------------------------ sensing
    def on_sense(self, event: Event) -> LaneState | None:
        now = event.now
        if isinstance(event, BarrierReported) and (bad := self._barrier_fault(event)):
            return self._fail_to(now, bad)
        self._approach_edges(now)
        self._presence_edges(now)
        return None

    def _presence_edges(self, now: float) -> None:
        deck = self.lane.deck
        for side in self.lane.edges.fell:
            self.start_timer(at(TimerKind.CLEAR_HOLD, side), now + self.params.clear_hold_s)
        for side in self.lane.edges.rose:
            self.cancel_timer(at(TimerKind.CLEAR_HOLD, side))
            if deck is not None and side == Side.ENTRY and self._from_the_deck(deck):
                self.reversed_off_deck(deck)
            elif side == Side.ENTRY and self._onto_occupied_deck():
                self.alarm(
                    "vehicle_onto_occupied_deck",
                    "a vehicle at the open entry arm while the deck is occupied (maintenance)",
                )
            elif deck is not None and side == Side.ENTRY:
                self._entry_pulse(deck, now)
            elif deck is not None and self.working_state in (
                LaneState.RELEASING,
                LaneState.LEAVING,
            ):
                deck.reached_exit = True
                deck.times.setdefault("exit_arm", now)

    def _onto_occupied_deck(self) -> bool:
        """In maintenance nobody admits vehicles (the workflow's tailgating check is off):
        presence rising under an entry arm that is not closed, with a vehicle known on
        the deck or the deck carrying one (fresh scale or I/O), is a second vehicle."""
        if self.working_state != LaneState.MAINTENANCE or self.image.fully_closed(Side.ENTRY):
            return False
        image, kg = self.image, self.image.weight_kg or 0.0
        weighed = image.fresh(Device.SCALE) and kg >= self.params.on_deck_kg
        beams = image.fresh(Device.IO) and not image.beams_clear
        return self.lane.deck is not None or weighed or beams

    def _entry_pulse(self, deck: DeckVehicle, now: float) -> None:
        if self.image.fully_closed(Side.ENTRY):
            what = "presence under the closed entry arm"
            self.alarm("presence_at_closed_entry", what, Clears.ENTRY_CLEAR)
            return
        if self.working_state not in (LaneState.ADMITTING, LaneState.ENTERING, LaneState.WEIGHING):
            return  # (DEGRADED counts as the state it resumes: an edge seen then is real)
        deck.entry_pulses += 1
        deck.reached_entry = True
        deck.times.setdefault("entry_arm", now)
        if deck.entry_pulses > 1 and not deck.hold_reason:
            deck.hold_reason = "tailgating: second vehicle at the entry"
            self.alarm("tailgating", deck.hold_reason, Clears.VEHICLE_GONE)

    # ------------------------------------------------------------------ timers
    def on_timer(self, event: TimerExpired) -> LaneState | None:
        timer, now = event.timer_id, event.now
        deadline = self.lane.timers.get(timer)
        if deadline is None or now < deadline:
            return None  # cancelled or re-armed since: a stale expiry
        del self.lane.timers[timer]
        expired = self.expiry_actions.get(timer.kind)
        return None if expired is None else expired(self, timer, now)

    def t_stall(self, timer: TimerId, now: float) -> LaneState | None:
        self.alarm(
            "lane_stalled",
            f"no progress in state {self.lane.state} for stall_alarm_s",
            Clears.STATE_LEFT,
        )
        self._hold_parked_under_entry()
        return None

    def _hold_parked_under_entry(self) -> None:
        """A vehicle parked under the open entry arm stalls ENTERING for good: the arm must
        not close onto it (S1) and the admitted vehicle is not weighed behind an open entry.
        It may be the admitted vehicle itself, or a tailgater bumper to bumper behind it
        (no gap at the loop, so no second pulse). Either way only an officer can resolve
        it: the lane holds (still red, the arm still open over it) for a release or reject,
        which lets the vehicles ahead and behind leave forwards. No invariant is relaxed."""
        deck = self.lane.deck
        if self.lane.state != LaneState.ENTERING or deck is None or deck.hold_reason:
            return
        if self.image.fresh_presence(Side.ENTRY):
            deck.hold_reason = "vehicle parked under the entry arm"

    # ------------------------------------------------------------------ health
    def on_health(self, event: DeviceHealthChanged) -> LaneState | None:
        timer = latch(event.device)
        if not event.healthy:
            if timer not in self.lane.timers:
                self.start_timer(timer, event.now + self.params.latch_s)
            self.event("device_unhealthy", device=event.device.value, reason=event.reason)
            if self.lane.state in (LaneState.FAULT, LaneState.EMERGENCY, LaneState.DEGRADED):
                return None
            self.lane.resume_state = self.lane.state
            return LaneState.DEGRADED
        self.cancel_timer(timer)
        self.event("device_healthy", device=event.device.value)
        if self.lane.state == LaneState.DEGRADED and self.image.all_fresh:
            return self.lane.resume_state
        return None

    # ------------------------------------------------------------------ records
    def on_committed(self, event: TransactionCommitted) -> LaneState | None:
        deck = self.lane.deck
        if deck is None or deck.transaction_id != event.transaction_id or deck.outcome is None:
            return self._fail_to(event.now, f"S10: unexpected commit of {event.transaction_id}")
        deck.committed = True
        deck.times.setdefault("committed", event.now)
        self.event("transaction_committed", transaction_id=deck.transaction_id)
        if self.lane.state == LaneState.DEGRADED:
            self.lane.resume_state = LaneState.RELEASING
            return None
        if self.lane.state != LaneState.COMMITTING:
            self.save_context()
            return None
        return LaneState.RELEASING

    def on_capacity(self, event: AdmissionCapacityChanged) -> LaneState | None:
        if event.admissions_allowed != self.lane.admissions_allowed:
            self.lane.admissions_allowed = event.admissions_allowed
            if not event.admissions_allowed:
                self.alarm(
                    "journal_admission_limit",
                    event.reason or "journal past its limit",
                    Clears.ADMISSIONS_OPEN,
                )
            else:
                self.emit(ClearAlarm("journal_admission_limit"))
            self.event("admissions_changed", allowed=event.admissions_allowed)
        return None

    # ------------------------------------------------------------------ boot (S9)
    def on_boot_report(self, event: Event) -> LaneState | None:
        image = self.image
        if not all(image.fresh(d) for d in self.params.devices):
            return None
        auto_close = [s for s in SIDES if (b := image.barriers.get(s)) is not None and b.auto_close]
        for side in auto_close:
            if side not in self.lane.auto_close_asked:
                self.lane.auto_close_asked.add(side)
                self.emit(DisableAutoClose(side))
        if auto_close:
            return None
        self.cancel_timer(BOOT)
        self.lane.outputs_written = (
            False  # force the all-red write now that every device has spoken
        )
        self.rearm_approach(event.now, at_boot=True)  # a truck already at the stop line
        return self.boot_target(self.reconcile(event.now))

    def reconcile(self, now: float) -> LaneState:
        """Restart: resume from the journaled context where the sensors agree, else HOLD."""
        if self.lane.latched_fault is not None:
            self.lane.fault_reason = self.lane.latched_fault
            return LaneState.FAULT
        deck, empty = self.lane.deck, self.image.deck_empty()
        if deck is not None and deck.committed:
            if empty:
                self.lane.deck = None
                self.event("vehicle_departed", transaction_id=deck.transaction_id)
                self.save_context()
                return LaneState.CLEARING
            return LaneState.RELEASING
        if deck is not None:
            deck.hold_reason = "restart: vehicle context not committed"
            return LaneState.HOLD
        if not empty:
            self.lane.deck = DeckVehicle.unknown(
                self.new_id(), now, "restart: unknown vehicle on deck"
            )
            return LaneState.HOLD
        return LaneState.CLEARING
