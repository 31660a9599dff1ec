"""LaneCore: one lane's sans-I/O controller. Events in, vetted commands out.

Theory of operation, one `handle(event)` step:
1. The sensor image absorbs the event (presence edges come out of it).
2. The table (table.TABLE) holds the handler for (state, event kind); an unlisted pair, or
   a handler reaching a state its entry does not list, fails closed to FAULT.
3. The current state's guards (table.GUARDS) may move the workflow one state on.
4. The output stage turns levels into proposals: S1's reopen first, halts in FAULT and
   DEGRADED, then what the state wants of each barrier, then the lights and signs image.
5. Every proposal passes the interlock filter. A vetoed workflow command means the
   workflow and the invariants disagree: the lane fails closed. A vetoed manual command is
   refused and audited. Vetoes are always reported.
Time is `event.now`; timers are data (StartTimer out, TimerExpired in).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import ClassVar

from controller.core.acknowledge import Acknowledge
from controller.core.commands import (
    Command,
    DeckContext,
    MoveBarrier,
    SetLights,
    StartTimer,
)
from controller.core.confirmation import Confirmation
from controller.core.crosscheck import Rule
from controller.core.crossings import Crossings
from controller.core.events import BarrierReported, Event, event_kind
from controller.core.handlers import Handlers
from controller.core.interlock import Interlock
from controller.core.invariants import Violation, s1_close
from controller.core.modes import Modes
from controller.core.params import LaneParams
from controller.core.table import CROSS_CHECK, ENTRY, EXPIRY, GUARDS, TABLE
from controller.core.timer_ids import BOOT, TimerKind, at
from controller.core.types import (
    SIDES,
    Aspect,
    BarrierState,
    LaneState,
    Mode,
    Motion,
    MoveReason,
    PlateEvidence,
    Side,
)
from controller.core.vehicles import DeckVehicle
from controller.core.weighing import Weighing
from controller.core.workflow import Workflow

MAX_ROUNDS = 3
ZEROING_STATES = frozenset({LaneState.IDLE, LaneState.CLEARING, LaneState.CLOSED})


def _uuid() -> str:
    return str(uuid.uuid4())


class LaneCore(Handlers, Modes, Acknowledge, Confirmation, Workflow, Crossings, Weighing):
    entry_actions = ENTRY
    expiry_actions = EXPIRY
    cross_check_rules: ClassVar[dict[PlateEvidence, Rule]] = CROSS_CHECK

    def __init__(
        self,
        params: LaneParams | None = None,
        *,
        new_id: Callable[[], str] | None = None,  # None: random UUIDs
        interlock: Interlock | None = None,
        deck: DeckContext | None = None,
        latched_fault: str | None = None,
        mode: Mode = Mode.AUTO,
    ) -> None:
        super().__init__(params or LaneParams(), new_id or _uuid, interlock or Interlock())
        self.lane.deck = None if deck is None else DeckVehicle.restored(deck)
        self.lane.latched_fault = latched_fault
        self.restore_mode(mode)

    def start(self, now: float) -> list[Command]:
        """S9: nothing is commanded until every device has reported; only a boot deadline."""
        self.lane.timers[BOOT] = now + self.params.boot_timeout_s
        return [StartTimer(BOOT, now + self.params.boot_timeout_s)]

    # ------------------------------------------------------------------ the step
    def handle(self, event: Event) -> list[Command]:
        self.lane.out = []
        now = event.now
        self.lane.edges = self.image.apply(event)
        self.lane.reported_now = event.side if isinstance(event, BarrierReported) else None
        origin = self.lane.state
        transition = TABLE.get((origin, event_kind(event)))
        if self.settle_crossing(event):
            pass  # a maintenance crossing's record: not the workflow's (crossings.py)
        elif transition is None:
            self.fail(now, f"unexpected {event_kind(event).value} in state {origin.value}")
        else:
            target = transition.handler(self, event)
            if target is not None and target != self.lane.state:
                if target in transition.targets:
                    self.go(target, now)
                else:
                    self.fail(now, f"{transition.name}: {origin} -> {target} not in the table")
        if isinstance(event, BarrierReported):  # S8 judges movement from the previous report
            self.lane.previous_barrier[event.side] = event.state
        self._progress(now)
        return self._finish(now)

    def _progress(self, now: float) -> None:
        for guard in GUARDS.get(self.lane.state, ()):
            target = guard.check(self, now)
            if target is None:
                continue
            if target in guard.targets:
                self.go(target, now)
            else:
                self.fail(now, f"{guard.name}: {self.lane.state} -> {target} not in the table")
            break
        if self.lane.state == LaneState.IDLE:  # a truck on the approach loop nobody identifies:
            self.rearm_approach(now, again=True)  # its arrival edge came while another was on it
        if self.lane.state in ZEROING_STATES:
            self.auto_zero(now)
        self.watch_crossings(now)
        self.watch_driver(now)
        self.watch_conditions(now)
        self.watch_alarms()
        self.watch_field(now)
        self.watch_mode()

    def _finish(self, now: float) -> list[Command]:
        result: list[Command] = []
        for _ in range(MAX_ROUNDS):
            if self.lane.state != LaneState.BOOTING:
                self._outputs(now)
            if not self._vet_into(result, now):
                break
        return result

    # ------------------------------------------------------------------ output stage
    def _outputs(self, now: float) -> None:
        for side in SIDES:
            self._drive(side, now)
        halting = self._halting()
        self.withdraw_manual_greens(halting)
        lights, signs = self.desired_lights(halting), self.desired_signs(now)
        if not self.lane.outputs_written or lights != self.lane.lights or signs != self.lane.signs:
            # written before any motion of this step: a green never stands over an arm
            # that starts to close or stop (S2), whoever commanded it
            self.lane.out.insert(0, SetLights(lights[0], lights[1], signs[0], signs[1]))

    def _halting(self) -> frozenset[Side]:
        """The sides sent to close or stop in this step (a technician's, or the output
        stage's): their lights go red in the same step."""
        moves = (c for c in self.lane.out if isinstance(c, MoveBarrier))
        return frozenset(m.side for m in moves if m.motion in (Motion.CLOSE, Motion.STOP))

    def _drive(self, side: Side, now: float) -> None:
        image, commanded = self.image, self.lane.commanded[side]
        state = image.barrier_state(side)
        closing = state == BarrierState.CLOSING or (
            commanded == Motion.CLOSE and not image.fully_closed(side)
        )
        # a barrier still reporting a close stroke after our OPEN gets it again on each report
        insisting = state == BarrierState.CLOSING and self.lane.reported_now == side
        if image.presence(side) and closing:
            if commanded != Motion.OPEN or insisting:
                self.emit(MoveBarrier(side, Motion.OPEN, MoveReason.SAFETY_REOPEN))
            return  # the reopen stands: no halt, no workflow motion onto the vehicle
        if self.lane.state in (LaneState.FAULT, LaneState.DEGRADED):
            moving = state in (BarrierState.OPENING, BarrierState.CLOSING)
            if moving and side not in self.lane.reopening and commanded != Motion.STOP:
                self.emit(MoveBarrier(side, Motion.STOP, MoveReason.HALT))
            return
        wanted = self.desired_motion(side)
        if wanted is None or wanted[0] == commanded:
            return
        motion, reason = wanted
        if motion == Motion.OPEN:
            needed = not image.fully_open(side)
        else:
            needed = not image.fully_closed(side) and s1_close(self, side, now) is None
            needed = needed and self._red_settled(side, now)
        if needed:
            self.emit(MoveBarrier(side, motion, reason))

    def _red_settled(self, side: Side, now: float) -> bool:
        """A close waits field_check_s behind its side's red (a green shown now turns red
        in this step): the lamps and the arm are on different links, and by then the red
        is confirmed on the I/O module or the lane has faulted. Leaving maintenance under
        a manual green closed the arm in the very step of the red."""
        due = self.close_due(side, now)
        if now >= due:
            return True
        if at(TimerKind.RED_SETTLE, side) not in self.lane.timers:
            self.start_timer(at(TimerKind.RED_SETTLE, side), due)  # a step then: the close goes out
        return False

    # ------------------------------------------------------------------ interlock
    def _vet_into(self, result: list[Command], now: float) -> bool:
        """Judge the proposals; True when a veto faulted the lane (outputs must rerun)."""
        proposed, self.lane.out = self.lane.out, []
        faulted = False
        for command in proposed:
            veto = self.interlock.judge(self, command, now)
            if veto is None:
                self._applied(command, now)
                result.append(command)
            else:
                faulted |= self._vetoed(command, veto, now)
        result.extend(self.lane.out)  # timers, veto reports, fault records: not proposals
        self.lane.out = []
        return faulted

    def _vetoed(self, command: Command, veto: Violation, now: float) -> bool:
        self.event(
            "command_vetoed",
            invariant=veto.invariant,
            message=veto.message,
            command=type(command).__name__,
        )
        if isinstance(command, MoveBarrier) and command.reason == MoveReason.MANUAL:
            return False
        before = self.lane.state
        self.fail(now, f"interlock veto {veto}")
        return self.lane.state != before

    def _applied(self, command: Command, now: float) -> None:
        if isinstance(command, SetLights):
            shown = (command.entry, command.exit)
            for side, was, aspect in zip(SIDES, self.lane.lights, shown, strict=True):
                if was == Aspect.GREEN and aspect == Aspect.RED:
                    self.lane.red_at[side] = now
            self.lane.lights = (command.entry, command.exit)
            self.lane.signs = (command.sign_reposition, command.sign_reverse)
            self.lane.outputs_written = True
        elif isinstance(command, MoveBarrier):
            self._moved(command, now)

    def _moved(self, move: MoveBarrier, now: float) -> None:
        side, motion = move.side, move.motion
        self.lane.commanded[side] = motion
        if move.reason == MoveReason.SAFETY_REOPEN:
            self.lane.reopening.add(side)
            self.event("safety_reopen", side=side.value)
        if motion in (Motion.OPEN, Motion.CLOSE) and not self._there(side, motion):
            self.start_timer(at(TimerKind.STROKE_START, side), now + self.params.field_check_s)
            self.start_timer(at(TimerKind.STROKE, side), now + self.params.stroke_timeout_s)
        elif move.reason == MoveReason.MANUAL:
            self._manual_stroke_ended(side, now)

    def _there(self, side: Side, motion: Motion) -> bool:
        image = self.image
        return image.fully_open(side) if motion == Motion.OPEN else image.fully_closed(side)

    def _manual_stroke_ended(self, side: Side, now: float) -> None:
        """A technician's stop (or a command to where the barrier already is) ends the
        stroke S8 was timing; a barrier still moving must report itself at rest within
        field_check_ms, or S8 faults the lane."""
        self.cancel_timer(at(TimerKind.STROKE_START, side))
        self.cancel_timer(at(TimerKind.STROKE, side))
        if self.image.barrier_state(side) in (BarrierState.OPENING, BarrierState.CLOSING):
            self.start_timer(at(TimerKind.STOP, side), now + self.params.field_check_s)
