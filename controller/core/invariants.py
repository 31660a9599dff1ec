"""The safety invariants of DESIGN section 4 as plain predicates.

Theory of operation: each function judges one rule against a `LaneView` (the lane's
sensor image plus the few workflow facts a rule needs) and returns a `Violation` naming
the rule and what broke it, or None. The same functions serve three masters:
- the interlock filter, before a command leaves the core (`check_command`);
- the runtime monitors, after every step (`check_lane`);
- the hypothesis state machine, as its @invariant checks.
So a rule is written once, and a test that breaks it breaks it everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from controller.core.commands import Command, MoveBarrier, SetLights, ZeroScale
from controller.core.image import SensorImage
from controller.core.params import LaneParams
from controller.core.types import (
    SIDES,
    Aspect,
    BarrierState,
    Decision,
    LaneState,
    Motion,
    MoveReason,
    Side,
)
from controller.core.vehicles import DeckVehicle

ALWAYS_ALLOWED = frozenset({MoveReason.SAFETY_REOPEN, MoveReason.HALT})
NO_GREEN_STATES = frozenset(
    {LaneState.BOOTING, LaneState.FAULT, LaneState.DEGRADED, LaneState.EMERGENCY, LaneState.HOLD}
)
ENTRY_GREEN_STATES = frozenset({LaneState.ADMITTING, LaneState.ENTERING})
EXIT_GREEN_STATES = frozenset({LaneState.RELEASING, LaneState.LEAVING})


@dataclass(frozen=True, slots=True)
class Violation:
    invariant: str
    message: str

    def __str__(self) -> str:
        return f"{self.invariant}: {self.message}"


class LaneView(Protocol):
    @property
    def state(self) -> LaneState: ...
    @property
    def deck(self) -> DeckVehicle | None: ...
    @property
    def image(self) -> SensorImage: ...
    @property
    def params(self) -> LaneParams: ...
    @property
    def lights(self) -> tuple[Aspect, Aspect]: ...
    @property
    def commanded(self) -> dict[Side, Motion | None]: ...


# ---------------------------------------------------------------- command-time rules
def s1_close(view: LaneView, side: Side, now: float) -> Violation | None:
    image = view.image
    if not image.presence_data_fresh(side):
        return Violation("S1", f"{side} close refused: presence data stale or missing")
    if image.presence(side):
        return Violation("S1", f"{side} close refused: presence at the {side} arm")
    held = image.clear_for(side, now)
    if held < view.params.clear_hold_s:
        return Violation("S1", f"{side} close refused: presence clear for {held:.2f}s only")
    return None


def s1_only_reopen(view: LaneView, side: Side) -> Violation | None:
    """S1's reopen stands: a barrier closing onto presence gets no command but OPEN (a
    stop, manual or not, would leave it closing, or stopped, over the vehicle)."""
    image = view.image
    if image.presence(side) and image.barrier_state(side) == BarrierState.CLOSING:
        return Violation("S1", f"{side} is closing onto presence: only a reopen")
    return None


def s2_green(view: LaneView, side: Side) -> Violation | None:
    image = view.image
    if view.state in NO_GREEN_STATES:
        return Violation("S2", f"{side} green refused in state {view.state}")
    if not image.all_fresh:
        return Violation("S2", f"{side} green refused: device data stale")
    if not image.fully_open(side):
        return Violation("S2", f"{side} green refused: barrier not reported fully open")
    if (motion := view.commanded[side]) in (Motion.CLOSE, Motion.STOP):
        return Violation("S2", f"{side} green refused: barrier commanded to {motion}")
    if view.state == LaneState.MAINTENANCE:
        return _s2_manual(view, side)
    return _s2_vehicle(view, side)


def _s2_manual(view: LaneView, side: Side) -> Violation | None:
    """S11: a manual green is still a green for one vehicle. Nobody may stand at the arm
    (it turns red on the rising edge of presence there), and the entry's green lets a
    vehicle onto the deck, so S3 must hold for it: no vehicle known on the deck, the
    deck empty (beams and weight) and the exit reported closed."""
    image = view.image
    if image.presence(side):
        return Violation("S2", f"{side} green refused: presence at the {side} arm")
    if side == Side.EXIT:
        return None
    if view.deck is not None:
        return Violation("S3", "entry green refused: a vehicle is on the deck")
    if not image.deck_empty():
        return Violation("S3", "entry green refused: deck not empty (beams or weight)")
    if not image.fully_closed(Side.EXIT):
        return Violation("S3", "entry green refused: exit barrier not reported closed")
    return None


def _s2_vehicle(view: LaneView, side: Side) -> Violation | None:
    deck = view.deck
    if deck is None:
        return Violation("S2", f"{side} green refused: no vehicle to serve")
    if side == Side.ENTRY:
        cleared = deck.admitted_with_s3 and deck.decision in (Decision.GRANT, Decision.INSPECT)
        ok_state, reached = view.state in ENTRY_GREEN_STATES, deck.reached_entry
    else:
        cleared, ok_state, reached = (
            deck.committed,
            view.state in EXIT_GREEN_STATES,
            deck.reached_exit,
        )
    if not cleared:
        return Violation("S2", f"{side} green refused: vehicle not cleared")
    if not ok_state:
        return Violation("S2", f"{side} green refused in state {view.state}")
    if reached or view.image.presence(side):
        return Violation("S2", f"{side} green refused: the vehicle has reached the arm")
    return None


def s3_entry_open(view: LaneView) -> Violation | None:
    image = view.image
    if not image.deck_empty():
        return Violation("S3", "entry open refused: deck not empty (beams or weight)")
    if not image.fully_closed(Side.EXIT):
        return Violation("S3", "entry open refused: exit barrier not reported closed")
    return None


def s4_capture(view: LaneView, now: float) -> Violation | None:
    image = view.image
    kg = image.weight_kg
    if not image.beams_clear:
        return Violation("S4", "capture refused: a deck beam is blocked")
    if kg is None or kg < view.params.on_deck_kg:
        return Violation("S4", f"capture refused: weight {kg} below on_deck_kg")
    if not image.weight_stable(now):
        return Violation("S4", "capture refused: weight not stable")
    return None


def s5_exit_open(view: LaneView, reason: MoveReason) -> Violation | None:
    deck = view.deck
    if deck is not None and not deck.committed:
        return Violation("S5", "exit open refused: the deck vehicle's transaction is not committed")
    if deck is None and reason == MoveReason.RELEASE:
        return Violation("S5", "exit open refused: no admitted vehicle to release")
    return None


def s12_zero(view: LaneView, now: float) -> Violation | None:
    image = view.image
    kg = image.weight_kg
    if kg is None or abs(kg) > view.params.zero_band_kg:
        return Violation("S12", f"admission refused: scale at {kg} kg, not within zero_band_kg")
    if not image.weight_stable(now) or not image.deck_empty():
        return Violation("S12", "admission refused: scale not stable at zero with the deck empty")
    return None


def zero_allowed(view: LaneView, now: float) -> Violation | None:
    image = view.image
    kg = image.weight_kg
    if view.deck is not None or not image.beams_clear or not image.fresh_io_and_scale:
        return Violation("ZERO", "zero refused: deck not known to be empty")
    if kg is None or abs(kg) > view.params.zero_capture_kg or not image.weight_stable(now):
        return Violation("ZERO", f"zero refused: reading {kg} kg outside zero_capture_kg")
    return None


def s7_movement(view: LaneView, move: MoveBarrier) -> Violation | None:
    if move.reason in ALWAYS_ALLOWED or move.motion in (Motion.STOP, Motion.RESET):
        return None
    if move.reason == MoveReason.EVACUATE:
        if view.state != LaneState.EMERGENCY:
            return Violation("S11", "evacuation opening refused outside EMERGENCY")
        return None
    if not view.image.all_fresh:
        return Violation("S7", f"{move.side} {move.motion} refused: device data stale")
    if view.state in (LaneState.FAULT, LaneState.DEGRADED, LaneState.BOOTING):
        return Violation("S7", f"{move.side} {move.motion} refused in state {view.state}")
    return None


def check_move(view: LaneView, move: MoveBarrier, now: float) -> Violation | None:
    if move.motion == Motion.CLOSE:
        return s1_close(view, move.side, now) or s7_movement(view, move)
    if move.motion != Motion.OPEN:
        return s1_only_reopen(view, move.side) or s7_movement(view, move)
    found = s7_movement(view, move)
    if found or move.reason in (MoveReason.SAFETY_REOPEN, MoveReason.EVACUATE):
        return found
    if move.side == Side.ENTRY:
        found = s3_entry_open(view)
        if found is None and move.reason == MoveReason.ADMIT:
            found = s12_zero(view, now)
        return found
    return s5_exit_open(view, move.reason)


def check_command(view: LaneView, command: Command, now: float) -> Violation | None:
    """The interlock's judgement of one proposed command."""
    if isinstance(command, MoveBarrier):
        return check_move(view, command, now)
    if isinstance(command, SetLights):
        for side, aspect in ((Side.ENTRY, command.entry), (Side.EXIT, command.exit)):
            if aspect == Aspect.GREEN and (found := s2_green(view, side)) is not None:
                return found
        return None
    if isinstance(command, ZeroScale):
        return zero_allowed(view, now)
    return None


# ---------------------------------------------------------------- step-time monitors
def check_lane(view: LaneView, now: float) -> list[Violation]:
    """What must hold after every step (S1 reaction, S2, S7, fault lights)."""
    found: list[Violation] = []
    for side, aspect in zip(SIDES, view.lights, strict=True):
        if aspect == Aspect.GREEN and (bad := s2_green(view, side)) is not None:
            found.append(Violation("S2", f"{side} is green: {bad.message}"))
    for side in SIDES:
        closing = view.image.barrier_state(side) == BarrierState.CLOSING
        commanded = view.commanded[side]
        if not view.image.presence(side):
            continue
        if commanded == Motion.CLOSE and not view.image.fully_closed(side):
            found.append(Violation("S1", f"{side} still commanded to close onto presence"))
        elif closing and commanded != Motion.OPEN:
            found.append(Violation("S1", f"{side} closing onto presence without a reopen"))
    if Aspect.GREEN in view.lights and not view.image.all_fresh:
        found.append(Violation("S7", "a light is green while device data is stale"))
    return found
