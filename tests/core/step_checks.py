"""What the state machine checks of each single step, written apart from invariants.py.

The interlock's own rules (invariants.py) are what the core is built from; these read the
step from outside, as the lane's field would see it, so a rule missing from both the core
and invariants.py is still caught (issue 17 items 1 and 2 were exactly that):
- S2, in the step's command order (`Lamps`): no barrier is sent to close or stop while
  its light is green, nor to close sooner than field_check_ms after its light went red;
  and no green stands over an arm commanded to close or stop after the step;
- S2: a light that is green after a step in which presence rose at its arm;
- S3 in MAINTENANCE: an entry green over an occupied deck (a vehicle known on it, the
  scale or a beam, or the exit not closed);
- a manual green that went red comes back only on the technician's own green command.
"""

from __future__ import annotations

from dataclasses import dataclass

from controller.core.commands import Command, MoveBarrier, SetLights
from controller.core.events import Event, OperatorCommanded
from controller.core.lane import LaneCore
from controller.core.types import SIDES, Aspect, LaneState, Motion, OperatorAction, Side

HALTING = (Motion.CLOSE, Motion.STOP)


@dataclass(frozen=True, slots=True)
class Before:
    """The lane as it was before the step."""

    lights: tuple[Aspect, Aspect]
    presence: tuple[bool, bool]

    @classmethod
    def of(cls, core: LaneCore) -> Before:
        presence = (core.image.presence(Side.ENTRY), core.image.presence(Side.EXIT))
        return cls(core.lights, presence)


def judge_step(core: LaneCore, before: Before, event: Event) -> list[str]:
    found: list[str] = []
    for i, side in enumerate(SIDES):
        if core.lights[i] != Aspect.GREEN:
            continue
        if core.commanded[side] in HALTING:
            found.append(f"S2: {side} green over an arm commanded to {core.commanded[side]}")
        if core.image.presence(side) and not before.presence[i]:
            found.append(f"S2: {side} still green on the rising edge of presence at its arm")
        came_back = core.state == LaneState.MAINTENANCE and before.lights[i] != Aspect.GREEN
        if came_back and not _asked_green(event, side):
            found.append(f"{side} manual green came back without a green command")
    if core.state == LaneState.MAINTENANCE and core.lights[0] == Aspect.GREEN:
        found.extend(_deck_occupied(core))
    return found


class Lamps:
    """The lights as the field shows them, command by command, and when each went red.
    The lamps and the arms are different devices on different links: an arm sent down
    in the same step as its red may start before the red is lit, so a close must come
    `settle_s` (field_check_ms: by then an output is confirmed or the lane faults)
    after its side's red, and no barrier is sent to close or stop under a green."""

    def __init__(self, settle_s: float) -> None:
        self.settle_s = settle_s
        self.aspects = [Aspect.RED, Aspect.RED]
        self.red_at = [float("-inf"), float("-inf")]

    def follow(self, now: float, out: list[Command]) -> list[str]:
        found: list[str] = []
        for command in out:
            if isinstance(command, SetLights):
                self._show(now, (command.entry, command.exit))
            elif isinstance(command, MoveBarrier) and command.motion in HALTING:
                found.extend(self._judge_move(now, command))
        return found

    def _show(self, now: float, aspects: tuple[Aspect, Aspect]) -> None:
        for i, aspect in enumerate(aspects):
            if self.aspects[i] == Aspect.GREEN and aspect == Aspect.RED:
                self.red_at[i] = now
        self.aspects = list(aspects)

    def _judge_move(self, now: float, move: MoveBarrier) -> list[str]:
        i = SIDES.index(move.side)
        if self.aspects[i] == Aspect.GREEN:
            return [f"S2: {move.side} sent {move.motion} under its green"]
        if move.motion == Motion.CLOSE and now < self.red_at[i] + self.settle_s:
            return [f"S2: {move.side} sent close {now - self.red_at[i]:.2f}s after its red"]
        return []


def _asked_green(event: Event, side: Side) -> bool:
    return (
        isinstance(event, OperatorCommanded)
        and event.action == OperatorAction.LIGHT_GREEN
        and event.side == side
    )


def _deck_occupied(core: LaneCore) -> list[str]:
    image = core.image
    if core.deck is not None:
        return ["S3: entry green in maintenance with a vehicle on the deck"]
    if not image.deck_empty():
        return [f"S3: entry green in maintenance over a deck not empty ({image.weight_kg} kg)"]
    if not image.fully_closed(Side.EXIT):
        return ["S3: entry green in maintenance with the exit not closed"]
    return []
