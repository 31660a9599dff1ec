"""A technician's manual control in MAINTENANCE: what the interlock filter alone cannot see.

Theory of operation: a manual command is judged by the workflow's own interlock (S11,
operator.py); these rules keep a manual green a green for one vehicle over time, and a
command that changes nothing answered as such:
- a manual green that has to go red (a vehicle reached its arm, the deck is occupied,
  its barrier is sent to move, data went stale, a fault) is withdrawn for good: the
  technician must command it again (`withdraw_manual_greens`, every step);
- a close commanded while the light at that side shows green (or went red less than
  `field_check_s` ago) turns the light red at once and closes the arm `field_check_s`
  after the red (`close_after_red`). The lights and the barrier are different devices on
  different links: an arm sent in the same step could start down before the red reached
  the I/O module. By field_check_s the red is shown, or S7/S8 have taken the lane out of
  maintenance and the close is dropped (the workflow's own closes wait alike, lane.py);
- a close on a closed barrier, an open on an open one, a stop on a barrier at rest is a
  no-op (`barrier_noop`): nothing is sent, so no S8 stroke timer waits for a stroke that
  never comes.
"""

from __future__ import annotations

from controller.core.base import LaneBase
from controller.core.commands import MoveBarrier
from controller.core.invariants import s2_green
from controller.core.timer_ids import TimerId, TimerKind, at
from controller.core.types import SIDES, Aspect, BarrierState, LaneState, Motion, MoveReason, Side

AT_REST = (BarrierState.OPEN, BarrierState.CLOSED, BarrierState.STOPPED)


class ManualControl(LaneBase):
    def t_close_after_red(self, timer: TimerId, now: float) -> LaneState | None:
        if timer.side is not None:
            self.close_after_red(timer.side, now)
        return None

    def barrier_noop(self, side: Side, motion: Motion) -> str:
        """Why `motion` would change nothing at `side` ("" if it would): a close on a
        closed barrier, an open on an open one, each with no other stroke commanded; a
        stop on a barrier at rest with no stroke pending. Anything replaces a close still
        waiting for its red."""
        image, commanded = self.image, self.lane.commanded[side]
        if self.close_pending(side):
            return ""
        if motion == Motion.CLOSE and image.fully_closed(side) and commanded in (None, motion):
            return f"{side} barrier already closed"
        if motion == Motion.OPEN and image.fully_open(side) and commanded in (None, motion):
            return f"{side} barrier already open"
        pending = (
            at(TimerKind.STROKE, side) in self.lane.timers
            or at(TimerKind.STROKE_START, side) in self.lane.timers
        )
        if motion == Motion.STOP and image.barrier_state(side) in AT_REST and not pending:
            return f"{side} barrier already at rest"
        return ""

    def green_shown(self, side: Side) -> bool:
        return self.lane.lights[SIDES.index(side)] == Aspect.GREEN

    def close_pending(self, side: Side) -> bool:
        return at(TimerKind.CLOSE_AFTER_RED, side) in self.lane.timers

    def close_due(self, side: Side, now: float) -> float:
        """When a close may be sent at `side`: field_check_s behind its red (a green
        shown now turns red in this step)."""
        since = now if self.green_shown(side) else self.lane.red_at[side]
        return since + self.params.field_check_s

    def send_manual(self, move: MoveBarrier, now: float) -> None:
        """Send an accepted manual motion; a close waits for its side's red to stand."""
        side = move.side
        self.cancel_timer(at(TimerKind.CLOSE_AFTER_RED, side))  # the newer command replaces it
        due = self.close_due(side, now) if move.motion == Motion.CLOSE else now
        if due <= now:
            self.emit(move)
            return
        if self.lane.manual_lights[side] == Aspect.GREEN:
            self._withdraw(side, f"{side} barrier sent to close")
        self.start_timer(at(TimerKind.CLOSE_AFTER_RED, side), due)
        self.event("barrier_close_after_red", side=side.value, after_s=round(due - now, 3))

    def close_after_red(self, side: Side, now: float) -> None:
        """The red has stood for field_check_s: close now, judged afresh (S1)."""
        if self.lane.state != LaneState.MAINTENANCE:
            self.event("manual_close_dropped", side=side.value, why=f"state {self.lane.state}")
            return
        move = MoveBarrier(side, Motion.CLOSE, MoveReason.MANUAL)
        if (veto := self.interlock.judge(self, move, now)) is not None:
            self.event("manual_close_dropped", side=side.value, why=str(veto))
            return
        self.emit(move)

    def withdraw_manual_greens(self, halting: frozenset[Side]) -> None:
        """A manual green that has to go red stays red (the technician must command it
        again): it never comes back by itself. `halting`: the sides sent to close or stop
        in this step."""
        for side in SIDES:
            if self.lane.manual_lights[side] != Aspect.GREEN:
                continue
            if self.lane.state != LaneState.MAINTENANCE:
                self._withdraw(side, f"state {self.lane.state}")
            elif side in halting:
                self._withdraw(side, f"{side} barrier sent to close or stop")
            elif (veto := s2_green(self, side)) is not None:
                self._withdraw(side, veto.message)

    def _withdraw(self, side: Side, why: str) -> None:
        self.lane.manual_lights[side] = Aspect.RED
        self.event("manual_green_withdrawn", side=side.value, why=why)
