"""Running statistics for `gatectl simulate`: a day's figures in bounded memory.

Theory of operation: a simulated day of eight lanes commits some 25,000 transactions.
Keeping every record to work out percentiles at the end grew the process by tens of MB
over the day, which a gateway keeps on disk and which hid the controller's own memory in
bench (e). So each record is folded in as it is committed: durations go into histograms
with logarithmic bins 0.5 % wide (a percentile is read to within 0.5 % of the exact one,
from a few hundred bins however long the run), and each lane's decision times pass
through a short reordering window (records commit in departure order, which can differ
from decision order by a vehicle or two) to give the lane's cycle times and its longest
time without a decision, exactly.
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from controller.core.commands import TransactionRecord

BIN_WIDTH = 0.005  # relative
SMALLEST_S = 0.001  # durations below this are counted as zero
REORDER_WINDOW = 64  # far more than one deck can put out of order (a vehicle or two)
_LOG_STEP = math.log1p(BIN_WIDTH)


@dataclass
class Histogram:
    """Counts of non-negative durations in logarithmic bins (zero apart, as bin -1)."""

    counts: Counter[int] = field(default_factory=Counter)
    total: int = 0

    def add(self, seconds: float) -> None:
        below = seconds < SMALLEST_S
        key = -1 if below else math.floor(math.log(seconds / SMALLEST_S) / _LOG_STEP)
        self.counts[key] += 1
        self.total += 1

    def quantile(self, q: float) -> float | None:
        """The value below which a fraction `q` of the durations lie, interpolated between
        the two nearest ranks as numpy does by default (each read as the middle of its
        bin); None when empty."""
        if not 0.0 <= q <= 1.0:
            raise ValueError(f"q: must be between 0 and 1, not {q}")
        if not self.total:
            return None
        rank = q * (self.total - 1)
        low, high = self._at(math.floor(rank)), self._at(math.ceil(rank))
        return low + (high - low) * (rank - math.floor(rank))

    def bins(self) -> list[tuple[float, int]]:
        """(the middle of each bin in seconds, its count), shortest first."""
        return [
            (0.0 if key < 0 else SMALLEST_S * math.exp((key + 0.5) * _LOG_STEP), count)
            for key, count in sorted(self.counts.items())
        ]

    def _at(self, index: int) -> float:
        seen = 0
        for key in sorted(self.counts):
            seen += self.counts[key]
            if seen > index:
                return 0.0 if key < 0 else SMALLEST_S * math.exp((key + 0.5) * _LOG_STEP)
        raise AssertionError("counts and total disagree")  # pragma: no cover

    @classmethod
    def merged(cls, parts: Iterable[Histogram]) -> Histogram:
        whole = cls()
        for part in parts:
            whole.counts.update(part.counts)
            whole.total += part.total
        return whole


@dataclass
class Decisions:
    """One lane's decision times in order: its cycle times and its longest gap."""

    cycles: Histogram = field(default_factory=Histogram)
    count: int = 0
    last_s: float = 0.0  # the simulation's start, before the first decision
    longest_gap_s: float = 0.0
    _window: list[float] = field(default_factory=list)

    def add(self, decided_s: float) -> None:
        heapq.heappush(self._window, decided_s)
        if len(self._window) > REORDER_WINDOW:
            self._take(heapq.heappop(self._window))

    def finish(self, end_s: float) -> float:
        """Takes in the decisions still in the window; the longest gap up to `end_s`."""
        while self._window:
            self._take(heapq.heappop(self._window))
        return max(self.longest_gap_s, end_s - self.last_s)

    def _take(self, decided_s: float) -> None:
        if decided_s < self.last_s:
            raise ValueError(
                f"decided_s: {decided_s} came after the window moved on to {self.last_s}"
            )
        if self.count:
            self.cycles.add(decided_s - self.last_s)
        self.longest_gap_s = max(self.longest_gap_s, decided_s - self.last_s)
        self.last_s, self.count = decided_s, self.count + 1


@dataclass
class LaneStats:
    """What the report needs from one lane's committed transactions."""

    decisions: Decisions = field(default_factory=Decisions)
    stages: dict[str, Histogram] = field(default_factory=dict)
    per_hour: Counter[int] = field(default_factory=Counter)  # decisions in each hour

    def record(self, record: TransactionRecord) -> None:
        times = dict(record.stage_times)
        if "decided" in times:  # an officer's record of an unidentified vehicle has none
            self.decisions.add(times["decided"])
            self.per_hour[int(times["decided"] // 3600)] += 1
        ordered = sorted(times.items(), key=lambda kv: kv[1])
        for (a, ta), (b, tb) in itertools.pairwise(ordered):
            self.stages.setdefault(f"{a}->{b}", Histogram()).add(tb - ta)
