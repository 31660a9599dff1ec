"""The interlock filter: the workflow proposes, the interlock disposes.

Theory of operation: every command the workflow (or a technician) proposes passes through
`Interlock.judge` with the lane as it is at that moment. A command that would break S1-S5,
S7, S11 or S12 is vetoed: it never leaves the core, and the veto is reported as an event
and an alarm naming the invariant (never silent). The rules themselves live in
invariants.py, shared with the runtime monitors and the property tests.

The filter is a class so tests can substitute a deliberately broken one and show that the
property tests catch it.
"""

from __future__ import annotations

from controller.core.commands import Command
from controller.core.invariants import LaneView, Violation, check_command


class Interlock:
    def judge(self, view: LaneView, command: Command, now: float) -> Violation | None:
        return check_command(view, command, now)
