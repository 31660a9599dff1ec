"""The field's own equipment as the I/O module reports it (DESIGN section 2, S2): a red
lamp commanded on whose current sense stays off for field_check_s is a dark head, a
fault; the loop detector's fault relay means the loops prove nothing, a fault at once.
A reset is refused while either still stands (it would only fault again)."""

from __future__ import annotations

from controller.core.events import OperatorCommanded
from controller.core.params import LaneParams
from controller.core.types import LaneState, OperatorAction, Role, Side
from simulation.scripted import ScriptedLane, Truck
from tests.core.test_steps import events, officer, state

SENSED = LaneParams(red_lamp_sensed=True)


def sensed_lane() -> ScriptedLane:
    lane = ScriptedLane(params=SENSED)
    lane.run_for(2.0)
    assert state(lane) == LaneState.IDLE
    return lane


def fault_reason(lane: ScriptedLane) -> str:
    return lane.core.latched_fault or ""


def refusals(lane: ScriptedLane) -> list[str]:
    return [str(e.data["why"]) for e in events(lane, "reset_refused")]


def test_lamps_that_follow_the_lights_let_trucks_through() -> None:
    lane = sensed_lane()
    for i in range(3):
        assert lane.process(Truck(f"E{i}", 20000 + 100 * i))
    assert state(lane) == LaneState.IDLE
    assert len(lane.committed) == 3
    assert lane.inputs["entry_red_ok"]
    assert lane.inputs["exit_red_ok"]


def test_a_blown_red_lamp_faults_the_lane_after_field_check() -> None:
    lane = sensed_lane()
    lane.dark_lamps.add(Side.EXIT)
    lane.sense_lamps()
    lane.run_for(SENSED.field_check_s - 0.1)
    assert state(lane) == LaneState.IDLE
    lane.run_for(0.2)
    assert state(lane) == LaneState.FAULT
    assert fault_reason(lane) == "S2: exit red lamp not lit within field_check_ms"


def test_a_lamp_sense_that_drops_for_less_than_field_check_is_not_a_fault() -> None:
    lane = sensed_lane()
    lane.set_inputs(entry_red_ok=False)
    lane.run_for(SENSED.field_check_s / 2)
    lane.set_inputs(entry_red_ok=True)
    lane.run_for(3 * SENSED.field_check_s)
    assert state(lane) == LaneState.IDLE


def test_without_lamp_sensing_wired_the_inputs_mean_nothing() -> None:
    lane = ScriptedLane()  # red_lamp_sensed False: the inputs read off all along
    lane.run_for(2.0)
    assert not lane.inputs["entry_red_ok"]
    assert lane.process(Truck("E1", 20000))
    assert state(lane) == LaneState.IDLE


def test_a_reset_is_refused_while_the_lamp_is_dark_and_taken_once_it_is_lit() -> None:
    lane = sensed_lane()
    lane.dark_lamps.add(Side.ENTRY)
    lane.sense_lamps()
    lane.run_for(2 * SENSED.field_check_s)
    officer(lane, OperatorAction.RESET)
    assert state(lane) == LaneState.FAULT
    assert refusals(lane) == ["red lamp not lit: entry"]
    lane.dark_lamps.clear()  # the lamp replaced
    lane.sense_lamps()
    officer(lane, OperatorAction.RESET)
    assert lane.run_until(lambda: state(lane) == LaneState.IDLE, 10)
    lane.run_for(3 * SENSED.field_check_s)
    assert state(lane) == LaneState.IDLE


def test_the_loop_detector_fault_relay_faults_at_once_and_blocks_the_reset() -> None:
    lane = sensed_lane()
    lane.set_inputs(loop_fault=True)
    assert state(lane) == LaneState.FAULT
    assert fault_reason(lane) == "loop detector fault relay set: loop presence not trusted"
    officer(lane, OperatorAction.RESET)
    assert state(lane) == LaneState.FAULT
    assert refusals(lane) == ["loop detector fault relay still set"]
    lane.set_inputs(loop_fault=False)
    officer(lane, OperatorAction.RESET)
    assert lane.run_until(lambda: state(lane) == LaneState.IDLE, 10)


def test_a_technician_at_work_on_the_lamps_does_not_fault_the_lane() -> None:
    lane = sensed_lane()
    technician = Role.TECHNICIAN
    lane.feed(
        OperatorCommanded(lane.now, OperatorAction.MODE_MAINTENANCE, "tech", technician, True)
    )
    assert state(lane) == LaneState.MAINTENANCE
    lane.dark_lamps.add(Side.ENTRY)
    lane.sense_lamps()
    lane.set_inputs(loop_fault=True)
    lane.run_for(5 * SENSED.field_check_s)
    assert state(lane) == LaneState.MAINTENANCE


def test_a_lamp_blown_mid_cycle_faults_with_the_truck_on_the_deck() -> None:
    lane = sensed_lane()
    truck = Truck("E1", 20000)
    lane.arrive(truck)
    assert lane.run_until(lambda: state(lane) == LaneState.ENTERING, 30)
    lane.dark_lamps.add(Side.EXIT)  # the exit head is red while the truck enters
    lane.sense_lamps()
    lane.run_for(SENSED.field_check_s + 0.1)
    assert state(lane) == LaneState.FAULT
    assert "exit red lamp" in fault_reason(lane)
