"""Every vehicle that crosses the deck leaves a record of what was measured.

Theory of operation: the workflow weighs and commits the vehicles it admits. Two kinds
crossed without a record of their weight: a vehicle nobody admitted (an intruder, a
second vehicle, one found at a restart or a reset) had `gross_kg: null` although the
scale had read it stable; and a vehicle that crossed in MAINTENANCE, where the workflow
is off, left no record at all. So the stable gross weight of an unknown deck vehicle is
captured (S4's conditions) whatever the state; in MAINTENANCE a vehicle on the deck is
noted as it arrives and, once the deck is empty again, committed with the outcome
`maintenance_crossing`. Those commits are not the workflow's: their acknowledgements
are settled here, and a failed one faults the lane (S10: no lost records).
"""

from __future__ import annotations

from controller.core.base import LaneBase
from controller.core.commands import CommitTransaction
from controller.core.events import Event, TransactionCommitFailed, TransactionCommitted
from controller.core.invariants import s4_capture
from controller.core.types import LaneState, Outcome
from controller.core.vehicles import DeckVehicle

IN_MAINTENANCE = "vehicle on the deck in maintenance"


class Crossings(LaneBase):
    def watch_crossings(self, now: float) -> None:
        if self.lane.state in (LaneState.FAULT, LaneState.EMERGENCY):
            self.lane.crossing = None  # a reset finds a vehicle still on the deck from the sensors
        if not self.image.fresh_io_and_scale:
            return  # nothing is judged on stale data
        for vehicle in (self.lane.deck, self.lane.crossing):
            if vehicle is not None:
                self._weigh_unknown(vehicle, now)
        if self.lane.state == LaneState.MAINTENANCE:
            self._watch_maintenance_deck(now)

    def _weigh_unknown(self, vehicle: DeckVehicle, now: float) -> None:
        """An unknown vehicle's stable gross weight, captured once (S4 holding)."""
        unknown = vehicle.tag is None and vehicle.decision is None
        if not unknown or vehicle.gross_kg is not None or vehicle.committed:
            return
        weight = self.image.weight
        if weight is None or s4_capture(self, now) is not None:
            return
        vehicle.gross_kg, vehicle.raw_frame = round(weight.weight_kg), weight.raw
        vehicle.times.setdefault("weighed", now)
        tid = vehicle.transaction_id
        self.event("weight_captured", transaction_id=tid, gross_kg=vehicle.gross_kg)
        if vehicle is self.lane.deck:
            self.save_context()

    def _watch_maintenance_deck(self, now: float) -> None:
        """A vehicle arriving on the deck in maintenance is noted apart from the deck
        vehicle (the workflow's, which S5 guards); leaving, it is committed."""
        vehicle, kg = self.lane.deck or self.lane.crossing, self.image.weight_kg or 0.0
        if vehicle is None and kg >= self.params.on_deck_kg:
            self.lane.crossing = DeckVehicle.unknown(self.new_id(), now, IN_MAINTENANCE)
            tid = self.lane.crossing.transaction_id
            self.event("vehicle_on_deck", transaction_id=tid, mode="maintenance")
        elif vehicle is not None and self.image.deck_empty():
            self._crossed(vehicle, now)

    def _crossed(self, vehicle: DeckVehicle, now: float) -> None:
        """The vehicle has left the deck in maintenance: its record, then the deck is
        free (a vehicle committed before keeps the record it has: never twice)."""
        if not vehicle.committed:
            vehicle.outcome = Outcome.MAINTENANCE_CROSSING
            vehicle.times.setdefault("left", now)
            self.lane.crossings.add(vehicle.transaction_id)
            reason = "crossed the deck in maintenance"
            record = vehicle.record(self.params.lane_id, Outcome.MAINTENANCE_CROSSING, reason)
            self.emit(CommitTransaction(record))
        self.event("vehicle_departed", transaction_id=vehicle.transaction_id, mode="maintenance")
        if vehicle is self.lane.deck:
            self.lane.deck = None
            self.save_context()
        self.lane.crossing = None

    def hand_over_crossing(self) -> None:
        """Maintenance ends with its vehicle still on the deck: it becomes the deck
        vehicle, an unknown one, so the lane holds it for an officer."""
        if self.lane.deck is None and self.lane.crossing is not None:
            self.lane.deck, self.lane.crossing = self.lane.crossing, None
            self.save_context()

    def settle_crossing(self, event: Event) -> bool:
        """The journal's answer for a maintenance crossing's record (True: it was one)."""
        if not isinstance(event, TransactionCommitted | TransactionCommitFailed):
            return False
        if event.transaction_id not in self.lane.crossings:
            return False
        self.lane.crossings.discard(event.transaction_id)
        if isinstance(event, TransactionCommitted):
            self.event("transaction_committed", transaction_id=event.transaction_id)
        elif self.lane.state in (LaneState.FAULT, LaneState.EMERGENCY):
            self.event("fault_while_latched", reason=f"S10: commit failed: {event.reason}")
        else:
            self.fail(event.now, f"S10: transaction commit failed: {event.reason}")
        return True
