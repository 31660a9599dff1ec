"""The emulation settings act on the emulated lane: loop response, deck length, the
scale's frame rate and the RS-485 turnaround (config `emulation:`)."""

from __future__ import annotations

import pytest

from emulators.geometry import Geometry, Physics
from emulators.lane import EmulatedLane
from emulators.world import World
from simulation.emulation import memory_lane, spec_from_config
from tests.emulators.test_world import HandPanel, run


def _approach_times(loop_response_s: float) -> tuple[float | None, float | None]:
    """When the truck first covered the approach loop, and when the loop reported it."""
    panel = HandPanel()
    world = World(panel, physics=Physics(loop_response_s=loop_response_s), seed=1)
    truck = world.spawn(world.make_truck())
    covered = reported = None
    for _ in range(2000):
        world.advance(0.01)
        lo, hi = world.geo.approach_loop
        if covered is None and truck.front - truck.length_m <= hi and lo <= truck.front:
            covered = world.now
        if reported is None and panel.signals.get("approach_loop"):
            reported = world.now
    return covered, reported


def test_the_loop_detector_reports_a_truck_after_its_response_time() -> None:
    covered, reported = _approach_times(0.06)
    assert covered is not None
    assert reported is not None
    assert 0.06 - 1e-9 <= reported - covered <= 0.06 + 0.01 + 1e-9
    instant_covered, instant_reported = _approach_times(0.0)
    assert instant_reported == instant_covered


def test_the_loop_detector_reports_a_truck_leaving_after_its_response_time() -> None:
    panel = HandPanel()
    world = World(panel, physics=Physics(loop_response_s=0.2), seed=1)
    world.spawn(world.make_truck())
    run(world, 20)  # at the stop line, on the approach loop
    assert panel.signals["approach_loop"]
    panel.arms["entry"], panel.lights["entry"] = 100, True
    left_at = None
    for _ in range(2000):
        world.advance(0.01)
        lo, hi = world.geo.approach_loop
        if left_at is None and not any(
            t.front - t.length_m <= hi and lo <= t.front for t in world.trucks
        ):
            left_at = world.now
        if left_at is not None and not _signal(panel, "approach_loop"):
            assert world.now - left_at >= 0.2 - 1e-9
            return
    raise AssertionError("the truck never left the approach loop")


def _signal(panel: HandPanel, name: str) -> bool:
    return panel.signals.get(name, False)


def test_deck_length_moves_the_exit_side() -> None:
    lane = EmulatedLane(spec_from_config(memory_lane("L01", deck_length_m=22.0)))
    geo = lane.world.geo
    assert geo.beam_out - geo.beam_in == 22.0
    assert geo.exit_arm == geo.beam_out + 1.0
    assert geo.exit_arm_loop[0] < geo.exit_arm < geo.exit_arm_loop[1]
    assert Geometry.for_deck(18.0) == Geometry()  # the default lane is unchanged


def test_scale_frame_rate_and_bus_turnaround_reach_the_emulators() -> None:
    lane = EmulatedLane(
        spec_from_config(memory_lane("L01", scale_frame_hz=4.0, rtu_turnaround_ms=5.0))
    )
    assert lane.scale_port.frame_period_s == 0.25
    slow, fast = (
        lane.rtu_line(38400),
        EmulatedLane(spec_from_config(memory_lane("L01"))).rtu_line(38400),
    )
    assert slow.reply_after_s(8, 7) - fast.reply_after_s(8, 7) == pytest.approx(0.003)
