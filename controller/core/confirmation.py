"""An officer settles the approach vehicle's identity: confirm it, or turn it away.

`confirm` answers a vehicle held at the approach: one whose tag and plate disagree
(`identity_mismatch`: the officer has checked it is the vehicle its tag's clearance
names, so the read was wrong), or one cleared by its plate alone (`awaiting_confirmation`:
the officer has checked the vehicle against its papers). It is admitted as the officer
vouched, and its record says so. `refuse` turns any approach vehicle not yet admitted away:
the entry stays closed and the reverse sign lights until it has driven off. Both are
officer-only, audited with their reason; anywhere else they are refused naming why, as
they are when they name the clearance request of a vehicle no longer at the approach.
"""

from __future__ import annotations

from controller.core.events import OperatorCommanded
from controller.core.operator import Operator
from controller.core.timer_ids import CLEARANCE, CLEARANCE_RETRY, PLATE_WAIT
from controller.core.types import ApproachStage, LaneState

HELD = (ApproachStage.MISMATCH, ApproachStage.CONFIRMING)
METHOD = {ApproachStage.MISMATCH: "officer", ApproachStage.CONFIRMING: "plate+officer"}


class Confirmation(Operator):
    def op_confirm(self, cmd: OperatorCommanded) -> LaneState | None:
        approach = self.lane.approach
        held = approach is not None and approach.stage in HELD
        refused = self._allowed(cmd) or ("" if held else "no vehicle awaiting confirmation")
        refused = refused or self._another_vehicle(cmd)
        self._audit(cmd, refused or None)
        if refused or approach is None:
            return None
        method = METHOD[approach.stage]
        approach.vouched_by, approach.stage = cmd.actor, ApproachStage.GRANTED
        approach.identity = self.identity_of(approach, method)
        self.event(
            "identity_confirmed",
            actor=cmd.actor,
            reason=cmd.reason,
            tag=approach.tag,
            method=method,
            plate=approach.identity.plate,
            expected_plate=approach.expected_plate,
        )
        return None

    def op_refuse(self, cmd: OperatorCommanded) -> LaneState | None:
        approach = self.lane.approach
        open_ = approach is not None and approach.stage != ApproachStage.DENIED
        refused = self._allowed(cmd) or ("" if open_ else "no vehicle at the approach to refuse")
        refused = refused or self._another_vehicle(cmd)
        self._audit(cmd, refused or None)
        if refused or approach is None:
            return None
        approach.stage, approach.request_id = ApproachStage.DENIED, None
        for timer in (CLEARANCE, CLEARANCE_RETRY, PLATE_WAIT):
            self.cancel_timer(timer)
        best = approach.best_read()
        self.event(
            "vehicle_refused",
            actor=cmd.actor,
            reason=cmd.reason,
            tag=approach.tag,
            plate=None if best is None else best.plate,
        )
        return None

    def _another_vehicle(self, cmd: OperatorCommanded) -> str:
        """The command names the clearance request of the vehicle the officer checked
        (`args.request_id`, optional): refused if another vehicle stands there by now."""
        wanted, approach = cmd.args.get("request_id"), self.lane.approach
        if wanted is None or (approach is not None and approach.request_id == wanted):
            return ""
        return f"request_id: {wanted!r} is not the vehicle at the approach"
