"""A released vehicle that is no longer in the lane (gone before a restart recorded it on
the deck, or gone while the exit's sensors were silent) does not keep the lane in LEAVING
for good: after the deck and both arms have been empty on fresh data for GONE_UNSEEN_S,
the departure is recorded as not seen, alarmed, and the lane clears up. Before, a
simulated day ended with six of eight lanes waiting in LEAVING for hours."""

from __future__ import annotations

from controller.core.departure import GONE_UNSEEN_S
from controller.core.types import Aspect, LaneState
from simulation.scripted import ScriptedLane, Truck
from tests.core.test_steps import booted, events, state


def released() -> ScriptedLane:
    lane = booted()
    truck = Truck("E1", 20000)
    lane.arrive(truck)
    assert lane.run_until(lambda: lane.lights[0] == Aspect.GREEN, 60)
    lane.run_for(lane.reaction_s)
    lane.drive_onto_deck(truck)
    assert lane.run_until(lambda: lane.lights[1] == Aspect.GREEN, 60)
    assert state(lane) == LaneState.LEAVING
    return lane


def test_a_vehicle_gone_without_passing_the_exit_sensors_is_let_go() -> None:
    lane = released()
    lane.load_kg = 0.0  # gone, and no exit arm presence was ever seen
    lane.set_inputs(approach_loop=True)  # the next truck waits at the stop line
    lane.inventory = False  # (its tag's sightings so far went nowhere: watch for a restart)
    lane.run_for(GONE_UNSEEN_S * 0.8)
    assert state(lane) == LaneState.LEAVING  # not at once: it may still be rolling off
    lane.run_for(GONE_UNSEEN_S * 0.4)
    assert state(lane) in (LaneState.CLEARING, LaneState.IDLE)
    assert [e.data["code"] for e in events(lane, "alarm")][-1] == "departure_not_seen"
    assert events(lane, "vehicle_departed")[-1].data["seen"] is False
    assert lane.inventory  # the reader's debounce restarts: a tag that was bound is news
    assert lane.run_until(lambda: state(lane) == LaneState.IDLE, 60)


def test_a_vehicle_still_on_the_deck_is_waited_for() -> None:
    lane = released()  # the truck stands on the deck with the exit open and green
    lane.run_for(GONE_UNSEEN_S * 3)
    assert state(lane) == LaneState.LEAVING
    assert not events(lane, "vehicle_departed")
