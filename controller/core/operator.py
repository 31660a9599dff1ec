"""Operator commands: modes, manual control, officer decisions.

Every operator command is audited as an event, accepted or refused, with who sent it.
Roles are checked here as well as at the socket (defence in depth): technicians operate
devices and modes except emergency; officers release, reject, identify, confirm, refuse,
reset and declare emergency. Manual barrier and light commands are judged by the same
interlock filter as the workflow's (S11), so maintenance cannot bypass S1-S3.
"""

from __future__ import annotations

from controller.core.alarms import Clears
from controller.core.base import APPROACH_DROPPED
from controller.core.commands import (
    ClearAlarm,
    Command,
    MoveBarrier,
    PersistFault,
    SetLights,
)
from controller.core.crosscheck import CrossCheck
from controller.core.events import OperatorCommanded
from controller.core.faults import Faults
from controller.core.manual import ManualControl
from controller.core.timer_ids import CLEARANCE
from controller.core.types import (
    SIDES,
    ApproachStage,
    Aspect,
    LaneState,
    Motion,
    MoveReason,
    OperatorAction,
    Outcome,
    Role,
    Side,
)
from controller.core.vehicles import DeckVehicle

A = OperatorAction
OFFICER_ONLY = frozenset(
    {A.MODE_EMERGENCY, A.RELEASE, A.REJECT, A.IDENTIFY, A.RESET, A.CONFIRM, A.REFUSE}
)
MOTION_OF = {
    A.BARRIER_OPEN: Motion.OPEN,
    A.BARRIER_CLOSE: Motion.CLOSE,
    A.BARRIER_STOP: Motion.STOP,
}


class Operator(ManualControl, CrossCheck, Faults):
    def _allowed(self, cmd: OperatorCommanded) -> str | None:
        if not cmd.authenticated:
            return "not authenticated"
        if cmd.role == Role.VIEWER:
            return "viewers cannot command"
        if cmd.action in OFFICER_ONLY and cmd.role != Role.OFFICER:
            return f"{cmd.action.value} needs an officer"
        return None

    def _audit(self, cmd: OperatorCommanded, refused: str | None = None, noop: str = "") -> None:
        data: dict[str, object] = {"action": cmd.action.value, "actor": cmd.actor}
        data.update(role=cmd.role.value, reason=cmd.reason, state=self.lane.state.value)
        if cmd.side is not None:
            data["side"] = cmd.side.value
        if cmd.tag is not None:
            data["tag"] = cmd.tag
        if refused is not None:
            self.event("operator_refused", refused=refused, **data)
        elif noop:  # accepted, and answered as changing nothing (nothing is sent)
            self.event("operator_noop", why=noop, **data)
        else:
            self.event("operator_command", **data)

    def _gate(self, cmd: OperatorCommanded) -> bool:
        """Audit the command; True when it may act."""
        refused = self._allowed(cmd)
        self._audit(cmd, refused)
        return refused is None

    def refuse(self, cmd: OperatorCommanded) -> LaneState | None:
        self._audit(cmd, self._allowed(cmd) or f"not allowed in state {self.lane.state.value}")
        return None

    # ------------------------------------------------------------------ modes
    def op_mode_auto(self, cmd: OperatorCommanded) -> LaneState | None:
        if not self._gate(cmd):
            return None
        self.lane.draining = False
        if self.lane.state not in APPROACH_DROPPED:  # closing dropped it; the truck stayed
            self.rearm_approach(cmd.now, again=True)
        if self.lane.state == LaneState.CLOSED:
            return LaneState.IDLE
        if self.lane.state == LaneState.MAINTENANCE:
            return self._leave_maintenance(cmd.now)
        return None

    def op_mode_closed(self, cmd: OperatorCommanded) -> LaneState | None:
        if not self._gate(cmd):
            return None
        self.lane.draining = True
        self.drop_approach()
        if self.lane.state == LaneState.IDLE:
            return LaneState.CLOSED
        if self.lane.state == LaneState.MAINTENANCE:
            return self._leave_maintenance(cmd.now)
        return None

    def _leave_maintenance(self, now: float) -> LaneState:
        """Back to the workflow: a deck left carrying something (a truck that drove on
        in maintenance) is an unknown vehicle for an officer, never a lane to clear."""
        self.lane.manual_lights = {Side.ENTRY: Aspect.RED, Side.EXIT: Aspect.RED}
        if self.lane.deck is None and not self.image.deck_empty():
            self.lane.deck = DeckVehicle.unknown(
                self.new_id(), now, "vehicle on deck after maintenance"
            )
        return LaneState.HOLD if self.lane.deck is not None else LaneState.CLEARING

    def op_mode_maintenance(self, cmd: OperatorCommanded) -> LaneState | None:
        if not self._gate(cmd):
            return None
        self.drop_approach()
        return LaneState.MAINTENANCE

    def op_emergency(self, cmd: OperatorCommanded) -> LaneState | None:
        if not self._gate(cmd):
            return None
        self.drop_approach()
        self.alarm(
            "emergency", f"emergency declared by {cmd.actor}: {cmd.reason}", Clears.EMERGENCY_RESET
        )
        return LaneState.EMERGENCY

    def op_end_emergency(self, cmd: OperatorCommanded) -> LaneState | None:
        if not self._gate(cmd):
            return None
        self.lane.fault_reason = "emergency ended: an authenticated reset is required"
        return LaneState.FAULT

    # ------------------------------------------------------------------ manual control
    def op_barrier(self, cmd: OperatorCommanded) -> LaneState | None:
        if cmd.side is None:
            self._audit(cmd, "side missing")
            return None
        motion = MOTION_OF[cmd.action]
        if self._noop(cmd, self.barrier_noop(cmd.side, motion)):
            return None
        move = MoveBarrier(cmd.side, motion, MoveReason.MANUAL)
        if self._manual(cmd, move):
            self.send_manual(move, cmd.now)
        return None

    def _noop(self, cmd: OperatorCommanded, why: str) -> bool:
        """Answer an entitled command that would change nothing as a no-op (audited)."""
        if not why or self._allowed(cmd) is not None:
            return False
        self._audit(cmd, noop=why)
        return True

    def op_light(self, cmd: OperatorCommanded) -> LaneState | None:
        if cmd.side is None:
            self._audit(cmd, "side missing")
            return None
        wanted = dict(self.lane.manual_lights)
        aspect = wanted[cmd.side] = Aspect.GREEN if cmd.action == A.LIGHT_GREEN else Aspect.RED
        shown = self.lane.lights[SIDES.index(cmd.side)]
        if shown == aspect and self._noop(cmd, f"{cmd.side} light already {aspect}"):
            return None
        if aspect == Aspect.GREEN and self.close_pending(cmd.side):
            self._audit(cmd, f"{cmd.side} barrier is about to close")
            return None
        if self._manual(cmd, SetLights(wanted[Side.ENTRY], wanted[Side.EXIT])):
            self.lane.manual_lights = wanted  # written by the output stage, re-judged every step
        return None

    def _manual(self, cmd: OperatorCommanded, command: Command) -> bool:
        """Judge a manual command with the workflow's own interlock (S11); audit it."""
        refused = self._allowed(cmd)
        if refused is None and (veto := self.interlock.judge(self, command, cmd.now)):
            refused = f"interlock veto {veto}"
        self._audit(cmd, refused)
        return refused is None

    # ------------------------------------------------------------------ officers
    def op_release(self, cmd: OperatorCommanded) -> LaneState | None:
        deck = self.lane.deck
        if not self._gate(cmd) or deck is None:
            return None
        if deck.committed:
            return LaneState.RELEASING  # its record is durable already: never commit twice
        outcome = Outcome.CLEARED if deck.gross_kg is not None else Outcome.RELEASED_UNWEIGHED
        return self.commit(deck, outcome, cmd.reason or "released by officer", cmd.now)

    def op_reject(self, cmd: OperatorCommanded) -> LaneState | None:
        deck = self.lane.deck
        if not self._gate(cmd) or deck is None:
            return None
        if deck.committed:  # a committed record is never rewritten: the vehicle is released
            refused = "its transaction is already committed: release it"
            self.event("operator_refused", action=cmd.action.value, refused=refused)
            return None
        return self.commit(deck, Outcome.REJECTED, cmd.reason or "rejected by officer", cmd.now)

    def op_identify(self, cmd: OperatorCommanded) -> LaneState | None:
        approach, tag = self.lane.approach, cmd.tag
        if not self._gate(cmd):
            return None
        if approach is None or not tag or approach.stage not in _REIDENTIFIABLE:
            self.event(
                "operator_refused", action=cmd.action.value, refused="no vehicle to identify"
            )
            return None
        if self.lane.deck is not None and self.lane.deck.tag == tag:
            self.event("operator_refused", action=cmd.action.value, refused="tag is on the deck")
            return None
        self.cancel_timer(CLEARANCE)
        approach.vouched_by = cmd.actor  # the officer has seen the vehicle: no cross-check
        self.request_clearance(approach, tag, cmd.now, f"officer:{cmd.actor}")
        return None

    def op_reset(self, cmd: OperatorCommanded) -> LaneState | None:
        if not self._gate(cmd):
            return None
        if not self.image.all_fresh:
            self.event("reset_refused", why="device data still stale")
            return None
        if field := self._field_failed():
            self.event("reset_refused", why=field)
            return None
        self.lane.latched_fault, self.lane.fault_reason = None, ""
        self.emit(PersistFault(None))
        self.emit(ClearAlarm("lane_fault"))
        for side in SIDES:
            self.lane.commanded[side] = None  # re-command from what the devices now report
        if self.lane.faulted_in == LaneState.MAINTENANCE:
            return self._back_to_maintenance()
        if self.lane.deck is None and not self.image.deck_empty():
            self.lane.deck = DeckVehicle.unknown(self.new_id(), cmd.now, "unknown vehicle on deck")
        if self.lane.deck is not None:
            self.lane.deck.hold_reason = (
                self.lane.deck.hold_reason or "reset with a vehicle on the deck"
            )
            return LaneState.HOLD
        return LaneState.CLEARING

    def _back_to_maintenance(self) -> LaneState:
        """The fault arose in maintenance: the technician's lane comes back as the
        technician left it, safe: every light red (manual greens were withdrawn at the
        fault) and nothing commanded (MAINTENANCE moves nothing by itself)."""
        self.lane.manual_lights = {Side.ENTRY: Aspect.RED, Side.EXIT: Aspect.RED}
        return LaneState.MAINTENANCE

    def _field_failed(self) -> str:
        """Why a reset would only fault again (lamp sense read on the red lights of FAULT)."""
        if self.loop_fault():
            return "loop detector fault relay still set"
        dark = [side.value for side in SIDES if self.red_dark(side)]
        return f"red lamp not lit: {', '.join(dark)}" if dark else ""


_REIDENTIFIABLE = (
    ApproachStage.WAITING_TAG,
    ApproachStage.AMBIGUOUS,
    ApproachStage.TIMED_OUT,
    ApproachStage.MISMATCH,
    ApproachStage.CONFIRMING,
)
