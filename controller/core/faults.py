"""Faults: what takes the lane out of its workflow, and what a FAULT does on entry.

Theory of operation: the lane fails closed (base.fail: FAULT with safe outputs, latched
and journaled until an officer's reset) when its field equipment fails or lies: a
barrier reporting a device fault, or starting a stroke nobody commanded (S8, judged
against the previous report); the lane's own red lamp commanded on but not lit for
field_check_s (S2, `watch_field` arms the lamp timer); the loop detector's fault relay
(S1 leans on the loops); a commit the journal failed (S10); a violation the runtime's
monitors saw. A fault found while the lane is already latched (FAULT or EMERGENCY) is
recorded, not re-entered. The stroke timers S8 keeps for each commanded motion are
settled here as the barrier reports progress. Entering FAULT latches the reason,
journals it, raises `lane_fault` (cleared by the reset) and drops the approach vehicle.
"""

from __future__ import annotations

from controller.core.alarms import Clears
from controller.core.base import LaneBase
from controller.core.commands import PersistFault
from controller.core.events import BarrierReported, InvariantViolated, TransactionCommitFailed
from controller.core.timer_ids import TimerId, TimerKind, at
from controller.core.types import (
    RED_OK,
    SIDES,
    Aspect,
    BarrierState,
    Device,
    LaneState,
    Motion,
    Side,
    Signal,
)

MOVING = (BarrierState.OPENING, BarrierState.CLOSING)
AT_REST = (BarrierState.OPEN, BarrierState.CLOSED, BarrierState.STOPPED)
# the field's own equipment (lamps, loop detectors) is judged in every working state
FIELD_UNWATCHED = frozenset(
    {LaneState.BOOTING, LaneState.MAINTENANCE, LaneState.EMERGENCY, LaneState.FAULT}
)


class Faults(LaneBase):
    def t_stroke(self, timer: TimerId, now: float) -> LaneState | None:
        what = "did not start" if timer.kind == TimerKind.STROKE_START else "did not finish"
        return self._fail_to(now, f"S8: {timer.side} barrier stroke {what} in time")

    def t_stop(self, timer: TimerId, now: float) -> LaneState | None:
        return self._fail_to(now, f"S8: {timer.side} barrier did not stop in time")

    def t_lamp(self, timer: TimerId, now: float) -> LaneState | None:
        return self._fail_to(now, f"S2: {timer.side} red lamp not lit within field_check_ms")

    def t_latch(self, timer: TimerId, now: float) -> LaneState | None:
        return self._fail_to(now, f"S7: {timer.device} data lost longer than latch_ms")

    def t_boot(self, timer: TimerId, now: float) -> LaneState | None:
        missing = sorted(d.value for d in self.params.devices if not self.image.fresh(d))
        return self._fail_to(now, f"S9: devices not reporting at boot: {missing}")

    def enter_fault(self, now: float) -> None:
        reason = self.lane.fault_reason or "unspecified fault"
        self.lane.latched_fault = reason
        self.emit(PersistFault(reason))
        self.alarm("lane_fault", reason, Clears.FAULT_RESET)
        self.drop_approach()
        self.lane.resume_state = None

    def _fail_to(self, now: float, reason: str) -> LaneState | None:
        if self.lane.state in (LaneState.FAULT, LaneState.EMERGENCY):
            self.event("fault_while_latched", reason=reason)
            return None
        self.lane.fault_reason = reason
        return LaneState.FAULT

    def _barrier_fault(self, report: BarrierReported) -> str | None:
        side, state = report.side, report.state
        before = self.lane.previous_barrier.get(side, BarrierState.UNKNOWN)
        self._stroke_progress(report)
        if report.device_fault or state == BarrierState.FAULT:
            return f"S8: {side} barrier reports a device fault"
        commanded = self.lane.commanded[side]
        if before in AT_REST and state in MOVING:  # nothing commanded (None) counts too
            wanted = Motion.OPEN if state == BarrierState.OPENING else Motion.CLOSE
            if commanded != wanted:
                return f"S8: {side} barrier started {state.name.lower()} uncommanded"
        return None

    def _stroke_progress(self, report: BarrierReported) -> None:
        side, commanded = report.side, self.lane.commanded[report.side]
        if report.state in MOVING:
            self.cancel_timer(at(TimerKind.STROKE_START, side))
        else:
            self.lane.reopening.discard(side)
        if report.state in AT_REST:
            self.cancel_timer(at(TimerKind.STOP, side))  # a technician's stop took
        done = (commanded == Motion.OPEN and self.image.fully_open(side)) or (
            commanded == Motion.CLOSE and self.image.fully_closed(side)
        )
        if done:
            self.cancel_timer(at(TimerKind.STROKE_START, side))
            self.cancel_timer(at(TimerKind.STROKE, side))

    def watch_field(self, now: float) -> None:
        """The lane's own field equipment, as its I/O inputs report it: a red lamp
        commanded on whose current sense stays off for `field_check_s` is a dark head (S2:
        a fault, from the timer), and the loop detector's fault relay means the loops'
        presence proves nothing any more (S1 leans on it): a fault at once. Not in
        MAINTENANCE (a technician at work), EMERGENCY (the arms stay open) or a fault."""
        watched = self.lane.state not in FIELD_UNWATCHED
        if self.params.red_lamp_sensed:  # (a check every step: skipped where not wired)
            for side in SIDES:
                timer, dark = at(TimerKind.LAMP, side), watched and self.red_dark(side)
                if dark and timer not in self.lane.timers:
                    self.start_timer(timer, now + self.params.field_check_s)
                elif not dark and timer in self.lane.timers:
                    self.cancel_timer(timer)
        if watched and self.loop_fault():
            self.fail(now, "loop detector fault relay set: loop presence not trusted")

    def red_dark(self, side: Side) -> bool:
        """The red lamp at `side` is commanded on and its current sense (when wired, on a
        fresh I/O module) says it is not lit."""
        image = self.image
        if not (
            self.params.red_lamp_sensed and self.lane.outputs_written and image.fresh(Device.IO)
        ):
            return False
        red_on = self.lane.lights[SIDES.index(side)] == Aspect.RED
        return red_on and not image.signal(RED_OK[side])

    def loop_fault(self) -> bool:
        return self.image.fresh(Device.IO) and self.image.signal(Signal.LOOP_FAULT)

    def on_commit_failed(self, event: TransactionCommitFailed) -> LaneState | None:
        return self._fail_to(event.now, f"S10: transaction commit failed: {event.reason}")

    def on_violation(self, event: InvariantViolated) -> LaneState | None:
        return self._fail_to(event.now, f"monitor {event.invariant}: {event.message}")
