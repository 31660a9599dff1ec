"""Trucks for the core's state machine: bodies moving along the lane as its sensors see them.

A truck moves one stage at a time: from the stop line under the entry arm, over beam_in
onto the deck, over beam_out under the exit arm, and away. It passes an arm on its green
(an obedient driver) or, reckless, whenever the arm reports fully open; it never drives
into the truck ahead. The sensors it makes are the OR of every truck's signals and the
sum of their loads, so two trucks in the lane look as they would on the wire.
"""

from __future__ import annotations

from dataclasses import dataclass

from controller.core.lane import LaneCore
from controller.core.types import SIDES, Aspect, Side

# (signals set, share of the truck's weight on the deck) at each stage
STAGES: tuple[tuple[frozenset[str], float], ...] = (
    (frozenset({"approach_loop"}), 0.0),  # at the stop line
    (frozenset({"entry_arm_loop"}), 0.0),  # under the entry arm
    (frozenset({"entry_arm_loop", "beam_in"}), 0.4),  # its front on the deck
    (frozenset({"beam_in"}), 0.8),
    (frozenset(), 1.0),  # fully on the deck
    (frozenset({"beam_out", "exit_arm_loop"}), 0.5),  # leaving under the exit arm
    (frozenset({"exit_arm_loop"}), 0.0),
)
GONE = len(STAGES)
SIGNALS = ("approach_loop", "entry_arm_loop", "beam_in", "beam_out", "exit_arm_loop")
GATES = {0: Side.ENTRY, 4: Side.EXIT}  # the arm a truck passes when it leaves this stage
MAX_TRUCKS = 2


@dataclass(slots=True)
class Truck:
    gross_kg: float
    stage: int = 0


class Traffic:
    def __init__(self) -> None:
        self.trucks: list[Truck] = []

    def arrive(self, gross_kg: float) -> bool:
        """A truck pulls up to the stop line (when there is room for it)."""
        if len(self.trucks) >= MAX_TRUCKS or any(t.stage == 0 for t in self.trucks):
            return False
        self.trucks.append(Truck(gross_kg))
        return True

    def move(self, index: int, core: LaneCore, reckless: bool) -> bool:
        """Truck `index` (0 is the foremost) moves one stage on, if it may; True if it did."""
        if index >= len(self.trucks):
            return False
        truck = self.trucks[index]
        ahead = self.trucks[index - 1].stage if index > 0 else GONE + 1
        gate = GATES.get(truck.stage)
        if truck.stage + 1 >= ahead or (gate is not None and not _may_pass(core, gate, reckless)):
            return False
        truck.stage += 1
        self.trucks = [t for t in self.trucks if t.stage < GONE]
        return True

    def inputs(self) -> dict[str, bool]:
        return {s: any(s in STAGES[t.stage][0] for t in self.trucks) for s in SIGNALS}

    def load_kg(self) -> float:
        return sum(t.gross_kg * STAGES[t.stage][1] for t in self.trucks)


def _may_pass(core: LaneCore, side: Side, reckless: bool) -> bool:
    green = core.lights[SIDES.index(side)] == Aspect.GREEN
    return green or (reckless and core.image.fully_open(side))
