"""Clearance: asking the central system whether an identified vehicle may enter (S6).

Theory of operation: a vehicle identified (by its tag, or by an officer) is asked about
once, as a request with a fresh id, and the clearance timer armed; only the answer to
the outstanding request counts (`on_decision`: a late or foreign answer is ignored and
said so). No answer in time raises the `clearance_timeout` condition and, after
clearance_retry_s, asks again as a new request (`retry_clearance`). A grant lets the
workflow admit the vehicle (workflow.g_admit) once its identity is settled (the tag
against the camera's plate, crosscheck.py); a denial lights the reverse sign. A vehicle
without a tag is asked about by its plate (crosscheck.ask_by_plate).
"""

from __future__ import annotations

from collections.abc import Callable

from controller.core.base import LaneBase
from controller.core.commands import RequestClearance
from controller.core.events import ClearanceDecided
from controller.core.timer_ids import CLEARANCE, CLEARANCE_RETRY, TimerId
from controller.core.types import ApproachStage, Decision, LaneState
from controller.core.vehicles import ApproachVehicle


class Clearance(LaneBase):
    # crosscheck.py: judge the granted vehicle's plate; a grant by plate waits for an officer
    cross_check: Callable[[], None]
    granted_by_plate: Callable[[ApproachVehicle], None]

    def t_clearance(self, timer: TimerId, now: float) -> LaneState | None:
        approach = self.lane.approach
        if approach is not None:
            approach.stage = ApproachStage.TIMED_OUT
            # a condition: cleared once the vehicle has its answer or has gone
            self.alarm("clearance_timeout", f"no clearance decision for {approach.tag}")
            self.start_timer(CLEARANCE_RETRY, now + self.params.clearance_retry_s)
        return None

    def t_clearance_retry(self, timer: TimerId, now: float) -> LaneState | None:
        self.retry_clearance(now)
        return None

    def request_clearance(self, approach: ApproachVehicle, tag: str, now: float, by: str) -> None:
        approach.tag, approach.identified_by = tag, by
        self.ask(approach, now)
        self.event("vehicle_identified", tag=tag, request_id=approach.request_id, by=by)

    def retry_clearance(self, now: float) -> None:
        """No answer came in time: ask again, as a new request (a late answer to the old
        one is ignored: it is no longer the outstanding request, S6)."""
        approach = self.lane.approach
        if approach is None or approach.stage != ApproachStage.TIMED_OUT:
            return
        if not (approach.tag or approach.asked_plate):
            return
        self.ask(approach, now)
        self.event("clearance_retried", tag=approach.tag, request_id=approach.request_id)

    def ask(self, approach: ApproachVehicle, now: float) -> None:
        """Ask by its tag, with the plate read for it when there is a confident one; or by
        the plate alone it is identified by (crosscheck.py)."""
        approach.request_id = self.new_id()
        approach.stage = ApproachStage.REQUESTED
        plate = approach.asked_plate or self._confident_plate(approach)
        self.emit(RequestClearance(approach.request_id, approach.tag, plate))
        self.start_timer(CLEARANCE, now + self.params.clearance_timeout_s)

    def _confident_plate(self, approach: ApproachVehicle) -> str | None:
        best, camera = approach.best_read(), self.params.camera
        if best is None or camera is None or best.confidence < camera.min_confidence:
            return None
        return best.plate

    def on_decision(self, event: ClearanceDecided) -> LaneState | None:
        approach = self.lane.approach
        if approach is None or approach.stage != ApproachStage.REQUESTED:
            self.event(
                "decision_ignored", request_id=event.request_id, why="no request outstanding"
            )
            return None
        if approach.request_id != event.request_id:
            self.event("decision_ignored", request_id=event.request_id, why="not the outstanding")
            return None
        self.cancel_timer(CLEARANCE)
        approach.decision = event.decision
        approach.declared_gross_kg = event.declared_gross_kg
        approach.tolerance_kg = event.tolerance_kg
        approach.expected_plate = event.plate
        denied = event.decision == Decision.DENY
        approach.stage = ApproachStage.DENIED if denied else ApproachStage.GRANTED
        self.event(
            "clearance_decided", tag=approach.tag, plate=event.plate, decision=event.decision.value
        )
        if not denied and approach.identified_by == "plate" and approach.vouched_by is None:
            self.granted_by_plate(approach)
        self.cross_check()
        return None
