"""The admitted vehicle's passage under the entry arm is never lost: an edge seen while the
lane is DEGRADED (another device stale) counts, and a passage nobody saw is inferred from
the deck. Before, either left the entry light green behind the vehicle on resume and the
next truck drove onto the occupied deck (the stateful world test: two_admitted_on_deck)."""

from __future__ import annotations

from controller.core.events import DeviceHealthChanged
from controller.core.types import Aspect, Device, LaneState
from simulation.scripted import ScriptedLane, Truck
from tests.core.test_steps import booted, events, state


def entering() -> ScriptedLane:
    lane = booted()
    lane.arrive(Truck("E1", 20000))
    assert lane.run_until(lambda: lane.lights[0] == Aspect.GREEN, 30)
    assert state(lane) == LaneState.ENTERING
    return lane


def test_an_edge_at_the_entry_arm_seen_while_degraded_still_counts() -> None:
    lane = entering()
    lane.feed(DeviceHealthChanged(lane.now, Device.SCALE, healthy=False, reason="silent"))
    assert state(lane) == LaneState.DEGRADED
    lane.set_inputs(approach_loop=False, entry_arm_loop=True)  # the I/O module still answers
    lane.run_for(0.5)
    lane.feed(DeviceHealthChanged(lane.now, Device.SCALE, healthy=True))
    assert state(lane) == LaneState.ENTERING
    lane.run_for(0.2)
    assert lane.lights[0] == Aspect.RED  # not green again behind the vehicle
    assert lane.core.deck is not None
    assert lane.core.deck.reached_entry


def test_a_passage_nobody_saw_is_inferred_from_the_deck() -> None:
    lane = entering()
    lane.feed(DeviceHealthChanged(lane.now, Device.IO, healthy=False, reason="silent"))
    lane.load_kg = 20000.0  # the truck rolled onto the scale meanwhile, its edges unseen
    lane.run_for(1.0)
    lane.feed(DeviceHealthChanged(lane.now, Device.IO, healthy=True))
    lane.run_for(0.2)
    assert lane.lights[0] == Aspect.RED
    assert [e.data["by"] for e in events(lane, "entry_passage_inferred")] == ["scale"]
    assert state(lane) in (LaneState.ENTERING, LaneState.WEIGHING)
