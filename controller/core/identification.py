"""Identification: which vehicle stands at the approach, by its tag.

Theory of operation: a truck arriving on the approach loop opens an approach record and
switches the RFID inventory on (not while identification is off: FAULT, MAINTENANCE,
EMERGENCY, CLOSED; leaving those re-arms it, base.rearm_approach); it driving off drops
the record. A tag round with exactly one tag not bound to the deck vehicle identifies
it and asks for its clearance (clearance.py); several unbound tags make the identity
ambiguous (an alarm, no request) until an officer identifies the vehicle. With a camera
on the lane, the vehicle's plate reads are cross-checked against its tag
(crosscheck.py).
"""

from __future__ import annotations

from controller.core.alarms import Clears
from controller.core.base import APPROACH_DROPPED
from controller.core.commands import SetInventory
from controller.core.crosscheck import CrossCheck
from controller.core.events import TagsRead
from controller.core.timer_ids import CLEARANCE
from controller.core.types import ApproachStage, LaneState
from controller.core.vehicles import ApproachVehicle

# a plate-only vehicle (CONFIRMING) whose tag answers after all is asked about by it
_IDENTIFYING = (
    ApproachStage.WAITING_TAG,
    ApproachStage.REQUESTED,
    ApproachStage.GRANTED,
    ApproachStage.CONFIRMING,
)


class Identification(CrossCheck):
    def _approach_edges(self, now: float) -> None:
        # no approach record while identification is off (a tag read then is ignored,
        # and a truck read on and on is never news again): leaving re-arms it instead
        if self.lane.edges.approach_rose and self.lane.state not in APPROACH_DROPPED:
            self.drop_approach()
            self.lane.approach = approach = ApproachVehicle(started_at=now)
            self.emit(SetInventory(active=True))
            self.event("vehicle_approached")
            self.approach_opened(approach, now)
        elif self.lane.edges.approach_fell and self.lane.approach is not None:
            self.event("approach_cleared", stage=self.lane.approach.stage.value)
            self.drop_approach()

    def on_tags(self, event: TagsRead) -> LaneState | None:
        approach = self.lane.approach
        if approach is None:
            return None
        bound = self.lane.deck.tag if self.lane.deck is not None else None
        unbound = sorted({t for t in event.epcs if t != bound})
        if not unbound or approach.stage not in _IDENTIFYING:
            return None
        others = [t for t in unbound if t != approach.tag]
        if approach.tag is None and len(unbound) == 1:
            self.request_clearance(approach, unbound[0], event.now, "rfid")
        elif others:
            self._ambiguous(approach, unbound)
        return None

    def _ambiguous(self, approach: ApproachVehicle, tags: list[str]) -> None:
        approach.stage = ApproachStage.AMBIGUOUS
        approach.request_id = None
        self.cancel_timer(CLEARANCE)
        self.alarm(
            "ambiguous_identity",
            f"several unbound tags at the approach: {tags}",
            Clears.APPROACH_RESOLVED,
        )
