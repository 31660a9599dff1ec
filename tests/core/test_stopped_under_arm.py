"""A vehicle that stands under an arm is alarmed whatever the lane is doing meanwhile: a
stale device (DEGRADED) or a latched fault does not make a driver's stop unseen. The
long stateful world run found a truck stopped under the entry arm for 20 s, unalarmed,
because the rs485 bus went stale 6 s into the stop and the lane latched a fault before
the 15 s were up. The evidence must be fresh, though: a presence last seen on a device
that has since gone silent is no proof of a vehicle still standing there."""

from __future__ import annotations

from controller.core.events import DeviceHealthChanged, InvariantViolated
from controller.core.types import Aspect, Device, LaneState, OperatorAction, Outcome, Side
from controller.core.workflow import STOPPED_UNDER_ARM_S
from simulation.scripted import ScriptedLane, Truck
from tests.core.test_steps import booted, events, officer, state

ALARM = "vehicle_stopped_under_entry_arm"


def under_the_entry_arm() -> ScriptedLane:
    lane = booted()
    lane.arrive(Truck("E1", 20000))
    assert lane.run_until(lambda: lane.lights[0] == Aspect.GREEN, 30)
    lane.set_inputs(approach_loop=False, entry_arm_loop=True)  # and there the driver stops
    lane.run_for(1.0)
    assert state(lane) == LaneState.ENTERING
    return lane


def alarmed(lane: ScriptedLane) -> bool:
    return any(e.data.get("code") == ALARM for e in events(lane, "alarm"))


def test_a_stop_under_the_entry_arm_is_alarmed() -> None:
    lane = under_the_entry_arm()
    lane.run_for(STOPPED_UNDER_ARM_S - 2)
    assert not alarmed(lane)
    lane.run_for(2.0)
    assert alarmed(lane)


def test_it_is_alarmed_while_another_device_is_stale() -> None:
    lane = under_the_entry_arm()
    lane.run_for(STOPPED_UNDER_ARM_S - 4)
    lane.feed(DeviceHealthChanged(lane.now, Device.SCALE, healthy=False, reason="silent"))
    assert state(lane) == LaneState.DEGRADED
    lane.run_for(4.0)  # within latch_s (5 s): still DEGRADED, not yet a fault
    assert state(lane) == LaneState.DEGRADED
    assert alarmed(lane)


def test_it_is_alarmed_while_the_lane_is_faulted() -> None:
    lane = under_the_entry_arm()
    lane.feed(InvariantViolated(lane.now, "S8", "injected by the test"))
    assert state(lane) == LaneState.FAULT
    lane.run_for(STOPPED_UNDER_ARM_S)
    assert state(lane) == LaneState.FAULT
    assert alarmed(lane)


def test_a_presence_seen_only_on_silent_devices_is_not_alarmed() -> None:
    lane = under_the_entry_arm()
    for device in (Device.IO, Device.ENTRY_BARRIER):
        lane.feed(DeviceHealthChanged(lane.now, device, healthy=False, reason="silent"))
    lane.run_for(STOPPED_UNDER_ARM_S + 5)
    assert not alarmed(lane)


# ---------------------------------------------------------------- parked for good
# The simulated day (seed 11, faults and misbehaving drivers) found lane L06 stalled for
# 151 minutes: a tailgater bumper to bumper behind the admitted truck, its front at the
# deck's edge, under the open entry arm; no gap at the loop, so no second pulse and no
# tailgating hold. The core alarmed and waited in ENTERING, where no officer action acts.
# A vehicle still under the entry arm when the stall alarm fires holds the lane instead.


def parked_behind_the_admitted_truck() -> ScriptedLane:
    """The admitted truck drives fully onto the deck; the loop behind it never clears."""
    lane = booted()
    truck = Truck("E1", 20000)
    lane.arrive(truck)
    assert lane.run_until(lambda: lane.lights[0] == Aspect.GREEN, 30)
    lane.set_inputs(approach_loop=False, entry_arm_loop=True)
    lane.run_for(1.5)
    lane.set_inputs(beam_in=True)
    lane.load_kg = 12000.0
    lane.run_for(2.0)
    lane.set_inputs(beam_in=False)  # fully on the deck; the tailgater's front stays at the loop
    lane.load_kg = 20000.0
    lane.run_for(1.0)
    assert state(lane) == LaneState.ENTERING
    return lane


def test_a_vehicle_parked_under_the_entry_arm_holds_the_lane_at_the_stall_alarm() -> None:
    lane = parked_behind_the_admitted_truck()
    stall_s = lane.params.stall_alarm_s
    lane.run_for(stall_s - 6)  # entered ENTERING about 4.5 s ago
    assert state(lane) == LaneState.ENTERING
    lane.run_for(3.0)
    assert state(lane) == LaneState.HOLD
    assert lane.core.deck is not None
    assert lane.core.deck.hold_reason == "vehicle parked under the entry arm"
    assert lane.lights == (Aspect.RED, Aspect.RED)
    assert not lane.core.image.fully_closed(Side.ENTRY)  # never closed onto the vehicle
    codes = [e.data.get("code") for e in events(lane, "alarm")]
    assert codes.index("lane_stalled") < codes.index("lane_held")


def test_the_officer_then_lets_both_leave_forwards() -> None:
    lane = parked_behind_the_admitted_truck()
    lane.run_for(lane.params.stall_alarm_s)
    officer(lane, OperatorAction.RELEASE, reason="tailgater behind the deck truck")
    assert lane.run_until(lambda: bool(lane.committed), 5)
    [record] = lane.committed
    assert record.outcome == Outcome.RELEASED_UNWEIGHED
    assert lane.run_until(lambda: lane.core.image.fully_open(Side.EXIT), 30)
    assert state(lane) in (LaneState.RELEASING, LaneState.LEAVING)


def test_a_driver_who_moves_on_before_the_stall_alarm_is_weighed_as_usual() -> None:
    lane = under_the_entry_arm()
    lane.run_for(lane.params.stall_alarm_s / 2)
    assert alarmed(lane)
    lane.drive_onto_deck(Truck("E1", 20000))  # the rest of the crossing
    lane.run_for(lane.params.stall_alarm_s)
    assert [r.outcome for r in lane.committed] == [Outcome.CLEARED]
    states = [e.data.get("state") for e in events(lane, "state_changed")]
    assert LaneState.WEIGHING.value in states
    assert LaneState.HOLD.value not in states
