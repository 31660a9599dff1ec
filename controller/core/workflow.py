"""The workflow of DESIGN section 3: progress guards and what each state wants.

Theory of operation: like a PLC scan, after every event the current state's guards
(table.GUARDS) are evaluated in order; the first that fires moves the lane one state on.
What a state wants from the barriers and lights is a level, not an edge: `desired_motion`
and `desired_lights` are recomputed every step, and the output stage in lane.py proposes
a command only where the commanded state differs. So a lane that resumes after data loss
or a restart re-issues exactly what it still needs, and nothing else.
"""

from __future__ import annotations

from controller.core.alarms import Clears
from controller.core.commands import SetInventory
from controller.core.departure import Departure
from controller.core.invariants import (
    ENTRY_GREEN_STATES,
    EXIT_GREEN_STATES,
    s1_close,
    s2_green,
    s3_entry_open,
    s12_zero,
)
from controller.core.timer_ids import CLEARANCE, PLATE_WAIT, POSITION
from controller.core.types import (
    SIDES,
    ApproachStage,
    Aspect,
    Device,
    LaneState,
    Motion,
    MoveReason,
    Side,
    Signal,
)
from controller.core.vehicles import DeckVehicle

S = LaneState
NO_OPINION = frozenset({S.BOOTING, S.FAULT, S.DEGRADED, S.MAINTENANCE})
STOPPED_UNDER_ARM_S = 15.0  # a 16.5 m truck clears an arm loop in about 6.5 s at 10 km/h
UNDER_ENTRY = frozenset({S.ENTERING, S.WEIGHING})
UNDER_EXIT = frozenset({S.LEAVING})


class Workflow(Departure):
    # ------------------------------------------------------------------ guards
    def g_intruder(self, now: float) -> LaneState | None:
        kg = self.image.weight_kg
        if self.lane.deck is None and kg is not None and kg >= self.params.on_deck_kg:
            self.lane.deck = DeckVehicle.unknown(
                self.new_id(), now, "vehicle on deck, not admitted"
            )
            self.alarm("deck_intrusion", self.lane.deck.hold_reason, Clears.VEHICLE_GONE)
            return S.HOLD
        return None

    def g_admit(self, now: float) -> LaneState | None:
        approach = self.lane.approach
        if approach is None or approach.stage != ApproachStage.GRANTED:
            return None
        if self.params.camera is not None and approach.identity is None:
            return None  # its plate is still due (crosscheck.py)
        if not self.lane.admissions_allowed or self.lane.draining or not self.image.all_fresh:
            return None
        if s3_entry_open(self) or s12_zero(self, now) or not self.image.fully_closed(Side.ENTRY):
            return None
        self.lane.deck = DeckVehicle.admitted(approach, self.new_id())
        self.lane.approach = None
        self.cancel_timer(CLEARANCE)
        self.emit(SetInventory(active=False))
        self.cancel_timer(PLATE_WAIT)
        self.event(
            "vehicle_admitted", tag=self.lane.deck.tag, transaction_id=self.lane.deck.transaction_id
        )
        return S.ADMITTING

    def g_held(self, now: float) -> LaneState | None:
        return S.HOLD if self.lane.deck is not None and self.lane.deck.hold_reason else None

    def g_entry_open(self, now: float) -> LaneState | None:
        deck = self.lane.deck
        reached = deck is not None and deck.reached_entry
        return S.ENTERING if reached or self.image.fully_open(Side.ENTRY) else None

    def g_entry_passed(self, now: float) -> LaneState | None:
        deck = self.lane.deck
        if deck is None or not deck.reached_entry or s1_close(self, Side.ENTRY, now):
            return None
        return S.WEIGHING

    def g_closed_up(self, now: float) -> LaneState | None:
        image = self.image
        if not (image.fully_closed(Side.ENTRY) and image.fully_closed(Side.EXIT)):
            return None
        if s12_zero(self, now) is not None:
            return None
        if self.lane.pending_maintenance:  # asked for while the vehicle was in process
            return S.MAINTENANCE
        return S.CLOSED if self.lane.draining else S.IDLE

    # ------------------------------------------------------------------ entry actions
    def enter_hold(self, now: float) -> None:
        self.cancel_timer(POSITION)
        reason = self.lane.deck.hold_reason if self.lane.deck is not None else "hold"
        self.alarm("lane_held", reason)  # a condition: cleared when the lane leaves holding

    def enter_degraded(self, now: float) -> None:
        # a condition: cleared once every device has been fresh for ALARM_SETTLE_S
        self.alarm("data_stale", "device data stale: lights red, no movement")

    # ------------------------------------------------------------------ driver alarms
    def watch_driver(self, now: float) -> None:
        """Detect and alarm what a driver does wrong that holds the lane up (DESIGN 10):
        stopping under an arm, stopping with the truck not fully on the deck, reversing off
        the deck (departure.py recognises it)."""
        deck, image = self.lane.deck, self.image
        if deck is None:
            return
        self._watch_deck_side(deck)
        self._infer_entry_passage(deck, now)
        for side, states in ((Side.ENTRY, UNDER_ENTRY), (Side.EXIT, UNDER_EXIT)):
            watched = self.working_state in states or self.lane.state == S.FAULT
            if watched and self._stood_under(side, now):
                self._driver_alarm(
                    deck,
                    f"vehicle_stopped_under_{side}_arm",
                    f"a vehicle has stood under the {side} arm for "
                    f"{image.present_for(side, now):.0f}s",
                    Clears.ENTRY_CLEAR if side == Side.ENTRY else Clears.EXIT_CLEAR,
                )
        if self.lane.state == S.WEIGHING and not image.beams_clear and image.weight_stable(now):
            self._driver_alarm(
                deck,
                "vehicle_not_fully_on_deck",
                "the vehicle stopped with a deck beam blocked: reposition sign on",
                Clears.BEAMS_CLEAR,
            )

    def _stood_under(self, side: Side, now: float) -> bool:
        """A vehicle has stood under the arm at `side` for longer than a slow truck takes
        to pass, as a device still answering sees it (a presence last reported by a
        device gone silent proves nothing about now)."""
        image = self.image
        return image.fresh_presence(side) and image.present_for(side, now) > STOPPED_UNDER_ARM_S

    def _infer_entry_passage(self, deck: DeckVehicle, now: float) -> None:
        """The admitted vehicle is on the deck (beam_in blocked, or the scale carries it)
        but its passage under the entry arm was never seen (the I/O module and the entry
        barrier were both silent while it passed): it is past the arm all the same, so
        the entry light goes red and the entry closes behind it as usual."""
        if self.working_state != S.ENTERING or deck.reached_entry:
            return
        image, kg = self.image, self.image.weight_kg or 0.0
        beam = image.fresh(Device.IO) and image.signal(Signal.BEAM_IN)
        weighed = image.fresh(Device.SCALE) and kg >= self.params.on_deck_kg
        if beam or weighed:
            deck.reached_entry = True
            deck.entry_pulses = max(deck.entry_pulses, 1)
            deck.times.setdefault("entry_arm", now)
            self.event("entry_passage_inferred", by="beam_in" if beam else "scale")

    def _driver_alarm(self, deck: DeckVehicle, code: str, message: str, clears: Clears) -> None:
        if code not in deck.alarmed:
            deck.alarmed.add(code)
            self.alarm(code, message, clears)

    # ------------------------------------------------------------------ levels
    def desired_motion(self, side: Side) -> tuple[Motion, MoveReason] | None:
        state, deck = self.lane.state, self.lane.deck
        if state == S.EMERGENCY:
            return Motion.OPEN, MoveReason.EVACUATE
        if state in NO_OPINION:
            return None
        if side == Side.ENTRY:
            admitting = state == S.ADMITTING or (state == S.ENTERING and not _reached(deck, side))
            return (
                (Motion.OPEN, MoveReason.ADMIT) if admitting else (Motion.CLOSE, MoveReason.SECURE)
            )
        if state in (S.RELEASING, S.LEAVING):
            # the exit opens behind a closed entry, except after an officer decided a held
            # vehicle: a tailgater under the entry arm must be able to leave forwards
            officer = deck is not None and bool(deck.hold_reason)
            behind_open_entry = not self.image.fully_closed(Side.ENTRY)
            if behind_open_entry and not officer and self.lane.commanded[side] != Motion.OPEN:
                return None
            return Motion.OPEN, MoveReason.RELEASE
        return Motion.CLOSE, MoveReason.SECURE

    def desired_lights(self, halting: frozenset[Side] = frozenset()) -> tuple[Aspect, Aspect]:
        """What each head shows: green only where the state wants it, S2 allows it, and
        its barrier is not being sent to close or stop in this very step (`halting`)."""
        if self.lane.state == S.MAINTENANCE:
            wanted = (self.lane.manual_lights[Side.ENTRY], self.lane.manual_lights[Side.EXIT])
        else:
            deck = self.lane.deck
            entry = self.lane.state in ENTRY_GREEN_STATES and not _reached(deck, Side.ENTRY)
            exit_ = self.lane.state in EXIT_GREEN_STATES and not _reached(deck, Side.EXIT)
            wanted = (Aspect.GREEN if entry else Aspect.RED, Aspect.GREEN if exit_ else Aspect.RED)
        entry_shown, exit_shown = (
            Aspect.GREEN
            if a == Aspect.GREEN and s not in halting and s2_green(self, s) is None
            else Aspect.RED
            for s, a in zip(SIDES, wanted, strict=True)
        )
        return entry_shown, exit_shown

    def desired_signs(self, now: float) -> tuple[bool, bool]:
        deck, image = self.lane.deck, self.image
        reposition = deck is not None and (
            deck.hold_reason == "position_timeout"
            or (
                self.lane.state == S.WEIGHING and not image.beams_clear and image.weight_stable(now)
            )
        )
        approach = self.lane.approach
        reverse = approach is not None and approach.stage == ApproachStage.DENIED
        return reposition, reverse


def _reached(deck: DeckVehicle | None, side: Side) -> bool:
    if deck is None:
        return False
    return deck.reached_entry if side == Side.ENTRY else deck.reached_exit
