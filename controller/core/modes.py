"""The operator's mode: journaled, restored at boot, and deferred past a vehicle in process.

Theory of operation: `mode` is what the operator last chose (auto, maintenance, closed,
emergency);
`watch_mode` journals it (`PersistMode`) whenever it changes, the way a latched fault is
journaled, so a lane left in maintenance boots into maintenance: all red, the arms as
found, nothing commanded. A mode change asked for while a vehicle is being processed
does not cut the workflow short: like closed's drain, it is pending (admissions stop, the
vehicle finishes and leaves, the lane closes up) and takes effect then; a later `mode
auto` cancels it. Emergency is never deferred, and is journaled too: an evacuation
outlives a restart.
"""

from __future__ import annotations

from controller.core.alarms import Clears
from controller.core.commands import PersistMode
from controller.core.crossings import Crossings
from controller.core.events import OperatorCommanded
from controller.core.operator import Operator
from controller.core.types import LaneState, Mode

S = LaneState


class Modes(Operator, Crossings):
    # ------------------------------------------------------------------ persistence
    def restore_mode(self, mode: Mode) -> None:
        """The journaled mode, before boot: the mode the lane was left in."""
        self.lane.mode = self.lane.persisted_mode = mode
        self.lane.draining = mode == Mode.CLOSED

    def boot_target(self, reconciled: LaneState) -> LaneState:
        """Where boot goes: an emergency declared before the restart goes on (its arms
        stay open for the evacuation); then a latched fault; then a journaled maintenance
        (the deck context is reconciled first: leaving it holds a vehicle found on it)."""
        if self.lane.mode == Mode.EMERGENCY:
            self.drop_approach()
            what = "emergency declared before the restart goes on: end it with mode auto"
            self.alarm("emergency", what, Clears.EMERGENCY_RESET)
            return LaneState.EMERGENCY
        if reconciled == LaneState.FAULT or self.lane.mode == Mode.AUTO:
            return reconciled
        self.drop_approach()  # maintenance and closed identify nobody
        return LaneState.MAINTENANCE if self.lane.mode == Mode.MAINTENANCE else reconciled

    def watch_mode(self) -> None:
        """Journal the operator's mode when it changed (as PersistFault does a fault)."""
        if self.lane.mode != self.lane.persisted_mode:
            self.lane.persisted_mode = self.lane.mode
            self.emit(PersistMode(self.lane.mode))

    @property
    def pending_mode(self) -> Mode | None:
        """The mode that takes effect once the lane has finished its vehicle, if any."""
        if self.lane.pending_maintenance:
            return Mode.MAINTENANCE
        if self.lane.draining and self.lane.state not in (S.CLOSED, S.MAINTENANCE):
            return Mode.CLOSED
        return None

    # ------------------------------------------------------------------ operator modes
    def op_mode_auto(self, cmd: OperatorCommanded) -> LaneState | None:
        cancelled = self.pending_mode
        self._hand_over(cmd)
        target = super().op_mode_auto(cmd)
        if self._allowed(cmd) is None:
            self.lane.mode, self.lane.pending_maintenance = Mode.AUTO, False
            if cancelled is not None:
                self.event("mode_pending_cancelled", mode=cancelled.value, by=cmd.actor)
        return target

    def op_mode_closed(self, cmd: OperatorCommanded) -> LaneState | None:
        self._hand_over(cmd)
        target = super().op_mode_closed(cmd)
        if self._allowed(cmd) is None:
            self.lane.mode, self.lane.pending_maintenance = Mode.CLOSED, False
            if S.CLOSED not in (target, self.lane.state):  # draining first (from maintenance too)
                self._pending(Mode.CLOSED, cmd)
        return target

    def op_defer_maintenance(self, cmd: OperatorCommanded) -> LaneState | None:
        """`mode maintenance` with a vehicle in process: after it has left."""
        if not self._gate(cmd):
            return None
        self.lane.draining = self.lane.pending_maintenance = True  # admit no more meanwhile
        self.drop_approach()
        self._pending(Mode.MAINTENANCE, cmd)
        return None

    def op_emergency(self, cmd: OperatorCommanded) -> LaneState | None:
        target = super().op_emergency(cmd)
        if self._allowed(cmd) is None:  # never deferred; it cancels what was pending
            self.lane.mode, self.lane.pending_maintenance, self.lane.draining = (
                Mode.EMERGENCY,
                False,
                False,
            )
        return target

    def op_end_emergency(self, cmd: OperatorCommanded) -> LaneState | None:
        target = super().op_end_emergency(cmd)
        if self._allowed(cmd) is None:
            self.lane.mode, self.lane.pending_maintenance, self.lane.draining = (
                Mode.AUTO,
                False,
                False,
            )
        return target

    def op_reset(self, cmd: OperatorCommanded) -> LaneState | None:
        target = super().op_reset(cmd)
        if target not in (None, S.MAINTENANCE) and self.lane.mode == Mode.MAINTENANCE:
            self.lane.mode = Mode.AUTO  # the reset resumed the workflow: the journaled mode follows
        return target

    def _hand_over(self, cmd: OperatorCommanded) -> None:
        """Leaving maintenance with its vehicle on the deck: the lane holds it."""
        if self.lane.state == S.MAINTENANCE and self._allowed(cmd) is None:
            self.hand_over_crossing()

    def _pending(self, mode: Mode, cmd: OperatorCommanded) -> None:
        vehicle = self.lane.deck is not None
        when = "after the current vehicle" if vehicle else "once the lane is closed up"
        self.event("mode_pending", mode=mode.value, message=f"{mode.value} {when}", by=cmd.actor)

    def enter_maintenance(self, now: float) -> None:
        self.lane.mode, self.lane.pending_maintenance, self.lane.draining = (
            Mode.MAINTENANCE,
            False,
            False,
        )

    def g_mode_due(self, now: float) -> LaneState | None:
        """A pending maintenance on a lane with no vehicle in process (it resumed idle or
        closed from a data loss): now."""
        return S.MAINTENANCE if self.lane.pending_maintenance else None
