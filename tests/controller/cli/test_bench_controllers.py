"""The yardsticks of the capacity figure (bench/lane/ground_truth.py): the IDEAL and SEQUENTIAL
ground-truth controllers move trucks through the emulated lane (15 simulated minutes,
virtual time) without causing anything the world's safety oracle blames on a controller."""

from __future__ import annotations

import functools

import pytest

from bench.lane.ground_truth import CapacityRun, ground_truth_capacity
from bench.lane.sim import MemoryProbe


@functools.cache
def run(pipelined: bool) -> CapacityRun:
    return ground_truth_capacity(0.25, seed=3, pipelined=pipelined)


@pytest.mark.parametrize("pipelined", [True, False], ids=["ideal", "sequential"])
def test_a_ground_truth_controller_moves_trucks_safely(pipelined: bool) -> None:
    result = run(pipelined)
    assert result.vehicles > 0
    assert result.controller_caused == 0, result.kinds
    assert result.driver_caused == 0  # obedient traffic: every truck had its green


def test_pipelining_is_what_separates_them() -> None:
    assert run(True).vehicles > run(False).vehicles


def test_the_memory_probe_reports_speed_hour_by_hour() -> None:
    probe = MemoryProbe(warmup_s=600.0, end_s=3 * 3600.0)
    # real seconds at the first minute, then at each simulated hour: 60 s, then 90 s
    probe.wall = [(60.0, 1.0), (1800.0, 30.0), (3600.0, 60.0), (5400.0, 100.0), (7200.0, 150.0)]
    assert probe.speed_by_hour() == [round(3540 / 59, 1), 40.0]
