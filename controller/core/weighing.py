"""Weighing: the admitted vehicle's gross weight, judged, and the scale kept at zero.

Theory of operation: entering WEIGHING arms the position timer (a vehicle that never
stands still on the deck is held, `position_timeout`). Once the entry is closed behind
the vehicle and S4 allows a capture (fresh, stable, the deck beams clear), `g_weigh`
takes the weight once and judges it: an inspection, a gross over max_gross_kg or out of
the declared tolerance holds the lane for an officer; otherwise the record is committed
as cleared. While the deck is empty (IDLE, CLEARING, CLOSED) `auto_zero` zeroes a scale
that drifted within the zero band when S12 allows it, and alarms one reading out of
range on a stable empty deck.
"""

from __future__ import annotations

from controller.core.alarms import Clears
from controller.core.base import LaneBase
from controller.core.commands import ZeroScale
from controller.core.invariants import s4_capture, zero_allowed
from controller.core.timer_ids import POSITION, TimerId
from controller.core.types import Decision, LaneState, Outcome, Side
from controller.core.vehicles import DeckVehicle

S = LaneState


class Weighing(LaneBase):
    def t_position(self, timer: TimerId, now: float) -> LaneState | None:
        deck = self.lane.deck
        if self.lane.state == LaneState.WEIGHING and deck is not None:
            deck.hold_reason = deck.hold_reason or "position_timeout"
        return None

    def enter_weighing(self, now: float) -> None:
        self.start_timer(POSITION, now + self.params.position_timeout_s)

    def g_weigh(self, now: float) -> LaneState | None:
        deck, weight = self.lane.deck, self.image.weight
        if deck is None or weight is None or not self.image.fully_closed(Side.ENTRY):
            return None
        if s4_capture(self, now) is not None:
            return None
        deck.gross_kg, deck.raw_frame = round(weight.weight_kg), weight.raw
        deck.times.setdefault("weighed", now)
        self.cancel_timer(POSITION)
        self.event("weight_captured", transaction_id=deck.transaction_id, gross_kg=deck.gross_kg)
        deck.hold_reason = self._weighing_hold(deck)
        if deck.hold_reason:
            return S.HOLD
        return self.commit(deck, Outcome.CLEARED, "weighed within tolerance", now)

    def _weighing_hold(self, deck: DeckVehicle) -> str:
        gross = deck.gross_kg or 0
        if deck.decision == Decision.INSPECT:
            return "inspect"
        if gross > self.params.max_gross_kg:
            return f"over max_gross_kg: {gross} kg"
        tolerance = deck.tolerance_kg if deck.tolerance_kg is not None else self.params.tolerance_kg
        declared = deck.declared_gross_kg
        if declared is not None and abs(gross - declared) > tolerance:
            return f"weight out of tolerance: {gross} kg vs declared {declared} kg"
        return ""

    def auto_zero(self, now: float) -> None:
        kg = self.image.weight_kg
        if kg is None or abs(kg) <= self.params.zero_band_kg or now < self.lane.zero_retry_at:
            return
        if zero_allowed(self, now) is None:
            self.emit(ZeroScale())
            self.lane.zero_retry_at = now + 2 * self.params.stable_window_s + 1.0
            self.event("scale_zeroed", reading_kg=kg)
        elif (
            self._zero_out_of_range(now, kg) and "scale_zero_out_of_range" not in self.lane.standing
        ):
            self.alarm("scale_zero_out_of_range", f"empty deck reads {kg} kg", Clears.SCALE_ZEROED)

    def _zero_out_of_range(self, now: float, kg: float) -> bool:
        image = self.image
        stable_empty = self.lane.deck is None and image.beams_clear and image.weight_stable(now)
        return stable_empty and abs(kg) > self.params.zero_capture_kg
