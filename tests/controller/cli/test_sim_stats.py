"""The simulation's running statistics agree with the exact figures they replace: a
percentile within a bin's width, cycles and gaps exactly, whatever the commit order."""

from __future__ import annotations

import itertools
import math
import random
import statistics

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simulation.stats import BIN_WIDTH, REORDER_WINDOW, Decisions, Histogram

durations = st.lists(st.floats(0.01, 5_000.0), min_size=1, max_size=300)


@given(durations, st.sampled_from([0.05, 0.5, 0.95]))
def test_a_percentile_lies_within_a_bin_of_the_samples_around_its_rank(
    values: list[float], q: float
) -> None:
    histogram = Histogram()
    for value in values:
        histogram.add(value)
    got = histogram.quantile(q)
    assert got is not None
    ordered, rank = sorted(values), q * (len(values) - 1)
    low, high = ordered[math.floor(rank)], ordered[math.ceil(rank)]  # it lies between
    assert low / (1 + BIN_WIDTH) <= got <= high * (1 + BIN_WIDTH)


def test_an_empty_histogram_has_no_percentile_and_zero_is_its_own_bin() -> None:
    histogram = Histogram()
    assert histogram.quantile(0.5) is None
    for value in (0.0, 0.0, 0.0, 10.0):
        histogram.add(value)
    assert histogram.quantile(0.5) == 0.0
    assert histogram.quantile(1.0) == pytest.approx(10.0, rel=BIN_WIDTH)
    with pytest.raises(ValueError, match="q: must be between 0 and 1"):
        histogram.quantile(1.5)


def test_merged_histograms_count_every_part() -> None:
    parts = [Histogram(), Histogram()]
    for index, value in enumerate(range(1, 101)):
        parts[index % 2].add(float(value))
    whole = Histogram.merged(parts)
    assert whole.total == 100
    assert whole.quantile(0.5) == pytest.approx(50.5, rel=BIN_WIDTH)


@given(
    st.lists(st.floats(1.0, 200.0), min_size=2, max_size=200),
    st.randoms(use_true_random=False),
)
def test_cycles_and_the_longest_gap_are_exact_whatever_the_commit_order(
    steps: list[float], rng: random.Random
) -> None:
    times = list(itertools.accumulate(steps))
    shuffled = times[:]
    for start in range(0, len(shuffled), 4):  # out of order by up to 3 places
        window = shuffled[start : start + 4]
        rng.shuffle(window)
        shuffled[start : start + 4] = window
    decisions = Decisions()
    for decided in shuffled:
        decisions.add(decided)
    end = times[-1] + 30.0
    gap = decisions.finish(end)
    assert gap == max(b - a for a, b in itertools.pairwise([0.0, *times, end]))
    assert decisions.count == len(times)
    assert decisions.cycles.total == len(times) - 1
    median = decisions.cycles.quantile(0.5)
    cycles = sorted(b - a for a, b in itertools.pairwise(times))
    low, high = statistics.median_low(cycles), statistics.median_high(cycles)
    assert median is not None
    assert low / (1 + BIN_WIDTH) <= median <= high * (1 + BIN_WIDTH)


def test_a_decision_older_than_the_window_is_refused() -> None:
    decisions = Decisions()
    for decided in range(100, 100 + REORDER_WINDOW + 1):
        decisions.add(float(decided))
    with pytest.raises(ValueError, match=r"decided_s: 5\.0 came after"):
        decisions.add(5.0)
