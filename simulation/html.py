"""`gatectl simulate --html FILE`: the simulated day as a page a person would rather look
at than read: throughput per lane per hour, the cycle-time histogram, holds and driver
incidents over time, the stage times, and the text report's figures. The plots are
inline SVG drawn here: no plotting library, nothing fetched, one self-contained file."""

from __future__ import annotations

import html
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from simulation.stats import Histogram, LaneStats

WIDTH, HEIGHT, PAD = 720, 220, 40
COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f")
HISTOGRAM_BINS = 20


class _Incident(Protocol):
    @property
    def time(self) -> float: ...


class SimulatedLane(Protocol):
    """What the page needs of one simulated lane (simulate.SimLane has it)."""

    lane_id: str
    stats: LaneStats
    alarms: list[tuple[float, str]]

    @property
    def incidents(self) -> Sequence[_Incident]: ...


@dataclass(frozen=True, slots=True)
class Series:
    hours: int
    per_lane_hour: dict[str, list[int]]
    cycle_bins: list[tuple[float, int]]
    holds_per_hour: list[int]
    incidents_per_hour: list[int]


def series_of(lanes: Sequence[SimulatedLane], hours: float) -> Series:
    count = max(1, math.ceil(hours))
    holds = Counter(
        int(t // 3600) for lane in lanes for t, code in lane.alarms if code == "lane_held"
    )
    incidents = Counter(int(i.time // 3600) for lane in lanes for i in lane.incidents)
    return Series(
        hours=count,
        per_lane_hour={
            lane.lane_id: [lane.stats.per_hour.get(h, 0) for h in range(count)] for lane in lanes
        },
        cycle_bins=Histogram.merged(lane.stats.decisions.cycles for lane in lanes).bins(),
        holds_per_hour=[holds.get(h, 0) for h in range(count)],
        incidents_per_hour=[incidents.get(h, 0) for h in range(count)],
    )


def page(report: dict[str, object], series: Series) -> str:
    hours = [f"h{h}" for h in range(series.hours)]
    charts = [
        _section("Throughput per lane per hour", grouped_bars(hours, series.per_lane_hour)),
        _section("Cycle time (decision to decision)", bars(*_linear(series.cycle_bins))),
        _section(
            "Holds and incidents per hour",
            grouped_bars(
                hours, {"holds": series.holds_per_hour, "incidents": series.incidents_per_hour}
            ),
        ),
    ]
    return _PAGE.format(charts="\n".join(charts), table=_table(report))


def grouped_bars(labels: Sequence[str], groups: dict[str, list[int]]) -> str:
    """One bar per group at each label, coloured by group, with a legend."""
    top = max([1, *(v for values in groups.values() for v in values)])
    slot = (WIDTH - 2 * PAD) / max(1, len(labels))
    width = slot * 0.8 / max(1, len(groups))
    shapes = []
    for g, (name, values) in enumerate(groups.items()):
        colour = COLOURS[g % len(COLOURS)]
        shapes.append(_legend(g, name, colour))
        for i, value in enumerate(values):
            x = PAD + i * slot + slot * 0.1 + g * width
            shapes.append(
                _bar(x, width, value, top, colour=colour, tip=f"{name} {labels[i]}: {value}")
            )
    return _svg(shapes, labels, top)


def bars(labels: Sequence[str], values: Sequence[int]) -> str:
    top = max([1, *values])
    slot = (WIDTH - 2 * PAD) / max(1, len(values))
    shapes = [
        _bar(PAD + i * slot + 1, slot - 2, v, top, colour=COLOURS[0], tip=f"{labels[i]}: {v}")
        for i, v in enumerate(values)
    ]
    return _svg(shapes, labels, top)


def _linear(bins: list[tuple[float, int]]) -> tuple[list[str], list[int]]:
    """The log-binned histogram as HISTOGRAM_BINS equal bins from its least to most."""
    if not bins:
        return [], []
    low, high = bins[0][0], bins[-1][0]
    step = (high - low) / HISTOGRAM_BINS or 1.0
    counts = [0] * HISTOGRAM_BINS
    for middle, count in bins:
        counts[min(HISTOGRAM_BINS - 1, int((middle - low) / step))] += count
    return [f"{low + (i + 0.5) * step:.0f} s" for i in range(HISTOGRAM_BINS)], counts


def _bar(x: float, width: float, value: int, top: int, *, colour: str, tip: str) -> str:
    height = (HEIGHT - 2 * PAD) * value / top
    y = HEIGHT - PAD - height
    return (
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="{height:.1f}" '
        f'fill="{colour}"><title>{html.escape(tip)}</title></rect>'
    )


def _legend(index: int, name: str, colour: str) -> str:
    x = PAD + index * 90
    return (
        f'<rect x="{x}" y="6" width="10" height="10" fill="{colour}"/>'
        f'<text x="{x + 14}" y="15">{html.escape(name)}</text>'
    )


def _svg(shapes: list[str], labels: Sequence[str], top: int) -> str:
    every = max(1, math.ceil(len(labels) / 12))
    slot = (WIDTH - 2 * PAD) / max(1, len(labels))
    ticks = [
        f'<text x="{PAD + (i + 0.5) * slot:.1f}" y="{HEIGHT - PAD + 14}" '
        f'text-anchor="middle">{html.escape(label)}</text>'
        for i, label in enumerate(labels)
        if i % every == 0
    ]
    axis = (
        f'<line x1="{PAD}" y1="{HEIGHT - PAD}" x2="{WIDTH - PAD}" y2="{HEIGHT - PAD}" '
        f'stroke="#333"/><text x="4" y="{PAD}">{top}</text>'
    )
    body = "".join([axis, *shapes, *ticks])
    return f'<svg viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" role="img">{body}</svg>'


def _section(title: str, chart: str) -> str:
    return f"<section><h2>{html.escape(title)}</h2>{chart}</section>"


def _table(report: dict[str, object]) -> str:
    rows = "".join(
        f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>"
        for k, v in report.items()
    )
    return f"<table>{rows}</table>"


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>gatebridge: the simulated day</title>
<style>body{{font:14px system-ui,sans-serif;margin:1.5rem;color:#1d2430}}
svg{{background:#fff;border:1px solid #d5dae1;font-size:10px}}
table{{border-collapse:collapse}}td,th{{border:1px solid #d5dae1;padding:2px 8px;text-align:left}}
</style></head><body><h1>gatebridge: the simulated day</h1>
{charts}
<section><h2>The report</h2>{table}</section>
</body></html>
"""
