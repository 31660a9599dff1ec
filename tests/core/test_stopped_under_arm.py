"""A vehicle that stands under an arm is alarmed whatever the lane is doing meanwhile: a
stale device (DEGRADED) or a latched fault does not make a driver's stop unseen. The
long stateful world run found a truck stopped under the entry arm for 20 s, unalarmed,
because the rs485 bus went stale 6 s into the stop and the lane latched a fault before
the 15 s were up. The evidence must be fresh, though: a presence last seen on a device
that has since gone silent is no proof of a vehicle still standing there."""

from __future__ import annotations

from controller.core.events import DeviceHealthChanged, InvariantViolated
from controller.core.types import Aspect, Device, LaneState
from controller.core.workflow import STOPPED_UNDER_ARM_S
from controller.scripted import ScriptedLane, Truck
from tests.core.test_steps import booted, events, state

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
