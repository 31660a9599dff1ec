"""An officer acknowledges an alarm: seen, and (when its cause has ended) gone.

`ack` is an operator command like the others: audited accepted or refused, officers only
(checked here as well as at the socket). An alarm still active stays listed, marked
acknowledged, until its clearing rule sees its cause end (alarms.py); one whose cause
has ended (an incident's is over at once) is removed. An alarm that is not standing is
refused with a line naming it.
"""

from __future__ import annotations

from controller.core.alarms import cause_over
from controller.core.events import OperatorCommanded
from controller.core.operator import Operator
from controller.core.types import LaneState, Role


class Acknowledge(Operator):
    def op_ack(self, cmd: OperatorCommanded) -> LaneState | None:
        code = cmd.args.get("alarm", "")
        refused = self._allowed(cmd) or self._ack_refused(cmd, code)
        self._audit(cmd, refused or None)
        if refused:
            return None
        alarm = self.lane.standing[code]
        if cause_over(self, alarm):
            self.drop_alarm(code, acknowledged_by=cmd.actor)
        else:
            alarm.acknowledged = True
            self.event("alarm_acknowledged", code=code, actor=cmd.actor, reason=cmd.reason)
        return None

    def _ack_refused(self, cmd: OperatorCommanded, code: str) -> str:
        if cmd.role != Role.OFFICER:
            return "ack needs an officer"
        if code not in self.lane.standing:
            standing = ", ".join(sorted(self.lane.standing)) or "none"
            return f"alarm: no alarm {code!r} standing on lane {self.params.lane_id} ({standing})"
        return ""
