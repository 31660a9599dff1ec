"""(e) simulation: the simulated day's speed and memory."""

from __future__ import annotations

import gc
import itertools
import resource
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from bench.lane.shared import SHARED, STALL_S, PartResult, Row, Settings, run_virtual, vm_rss_kb
from simulation.engine import (
    SimLane,
    SimSpec,
    run_simulation,
)


def deep_size(*roots: object) -> int:
    """Bytes of the objects reachable from `roots` (classes, modules, functions and enum
    members are shared, not counted)."""
    seen: set[int] = set()
    stack = list(roots)
    total = 0
    while stack:
        obj = stack.pop()
        if id(obj) in seen or isinstance(obj, SHARED):
            continue
        seen.add(id(obj))
        total += sys.getsizeof(obj)
        stack.extend(gc.get_referents(obj))
    return total


def sampled_size(items: Sequence[object], sample: int = 200) -> int:
    """Bytes of a long sequence of similar records, from its last `sample` items."""
    if not items:
        return sys.getsizeof(items)
    tail = list(items[-sample:])
    return sys.getsizeof(items) + deep_size(*tail) * len(items) // len(tail)


def harness_bytes(lanes: list[SimLane]) -> int:
    """What the simulation keeps that a gateway would not hold in RAM: the in-memory
    stand-in for the on-disk journal (events, transactions), the world's departed trucks
    and oracle, the emulators' bounded movement and output logs. Long record lists are
    sized from a sample."""
    total = 0
    for lane in lanes:
        journal, emulated = lane.journal, lane.emulated
        world = emulated.world
        total += sum(sampled_size(events) for events in journal.events.values())
        total += sampled_size(list(journal.transactions.items()))
        total += sampled_size(world.departed) + sampled_size(world.turned_away)
        total += sampled_size(world.oracle.incidents)
        logs: list[object] = [emulated.io.output_log, journal.contexts, journal.faults, lane.stats]
        logs += [barrier.movements for barrier in emulated.barriers.values()]
        total += deep_size(*logs)
    return total


@dataclass
class MemoryProbe:
    """RSS every simulated minute; the harness's own retained bytes after warm-up and at
    the end."""

    warmup_s: float
    end_s: float
    rss: list[tuple[float, int]] = field(default_factory=list)  # (elapsed, VmRSS kB)
    wall: list[tuple[float, float]] = field(default_factory=list)  # (elapsed, perf_counter)
    harness: dict[str, int] = field(default_factory=dict)
    peak_kb: int = 0  # ru_maxrss before the probe's own sizing at the end
    # lane -> (vehicles departed, when that count was first seen)
    last_departure: dict[str, tuple[int, float]] = field(default_factory=dict)

    def __call__(self, elapsed: float, lanes: list[SimLane]) -> None:
        self.rss.append((elapsed, vm_rss_kb()))
        self.wall.append((elapsed, time.perf_counter()))
        for lane in lanes:
            count = lane.emulated.world.departed_count
            if self.last_departure.get(lane.lane_id, (-1, 0.0))[0] != count:
                self.last_departure[lane.lane_id] = (count, elapsed)
        self.peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        if elapsed >= self.warmup_s and "warm" not in self.harness:
            self.harness["warm"] = harness_bytes(lanes)
        if elapsed >= self.end_s - 30:
            self.harness["end"] = harness_bytes(lanes)

    def at(self, elapsed: float) -> int:
        return next((kb for t, kb in self.rss if t >= elapsed), self.rss[-1][1])

    def speed_by_hour(self) -> list[float]:
        """Simulated over real seconds, hour by hour: a slowdown over the day shows as a
        trend, a noisy neighbour on the shared host as single slow hours."""
        marks = self.wall[:1] + [(t, w) for t, w in self.wall[1:] if t % 3600 < 60]
        return [
            round((t1 - t0) / (w1 - w0), 1)
            for (t0, w0), (t1, w1) in itertools.pairwise(marks)
            if w1 > w0
        ]

    def stalled(self) -> dict[str, float]:
        """Lanes no vehicle left in the last STALL_S, with the hour their last one left."""
        return {
            lane: round(at / 3600, 2)
            for lane, (_, at) in sorted(self.last_departure.items())
            if self.end_s - at > STALL_S
        }


def part_sim(s: Settings) -> PartResult:
    hours = s.sim_hours
    probe = MemoryProbe(warmup_s=max(600.0, hours * 3600 / 24), end_s=hours * 3600)
    start_kb = vm_rss_kb()
    report = run_virtual(run_simulation(SimSpec(8, hours, s.seed), on_minute=probe))
    peak_kb = max(probe.peak_kb, *(kb for _, kb in probe.rss))
    warm, end = probe.at(probe.warmup_s) / 1024, probe.rss[-1][1] / 1024
    harness_mb = (probe.harness["end"] - probe.harness["warm"]) / 2**20
    other_mb = end - warm - harness_mb
    speed = float(str(report["speed_x_real_time"]))
    caused = int(str(report["controller_caused_violations"]))
    stalled = probe.stalled()
    rows = [
        Row("sim_8_lanes_speed_x_real_time", round(speed, 1), ">= 60x", speed >= 60, "x"),
        Row("sim_rss_after_warmup_mb", round(warm, 1), "<= 100 MB", warm <= 100, "MB"),
        Row("sim_rss_end_mb", round(end, 1), "<= 100 MB", end <= 100, "MB"),
        Row("sim_rss_growth_mb", round(end - warm, 2), "<= 5 MB", end - warm <= 5, "MB"),
        Row("sim_rss_peak_mb", round(peak_kb / 1024, 1), "(ru_maxrss)", unit="MB"),
        Row("sim_harness_retained_growth_mb", round(harness_mb, 2), "(journal stand-in etc.)"),
        Row(
            "sim_rss_growth_less_harness_mb",
            round(other_mb, 2),
            "<= 5 MB (estimate: controller, devices, loop)",
            other_mb <= 5,
            "MB",
        ),
        Row("sim_controller_caused_violations", caused, "0", caused == 0),
        Row(
            "sim_lanes_stalled",
            len(stalled),
            "0 (no vehicle out for 10 min)",
            not stalled,
            "lanes",
        ),
    ]
    details: dict[str, object] = {
        "simulation": {
            "lanes": 8,
            "hours": hours,
            "warmup_s": probe.warmup_s,
            "rss_start_mb": round(start_kb / 1024, 1),
            "rss_mb_by_hour": {
                f"{t / 3600:.2f}": round(kb / 1024, 1)
                for t, kb in probe.rss
                if t % 3600 < 60 or t == probe.rss[-1][0]
            },
            "harness_retained_mb": {k: round(v / 2**20, 2) for k, v in probe.harness.items()},
            "speed_x_by_hour": probe.speed_by_hour(),
            "stalled_lanes_last_departure_h": stalled,
            "report": report,
        }
    }
    return rows, details
