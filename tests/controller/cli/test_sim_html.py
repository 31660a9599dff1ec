"""`gatectl simulate --html`: the page's series come from the lanes' own figures, and the
page is self-contained (inline SVG, nothing fetched)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from controller.core.commands import TransactionRecord
from controller.core.types import Outcome
from simulation.html import page, series_of
from simulation.stats import LaneStats


@dataclass(frozen=True)
class Incident:
    time: float
    kind: str = "tailgating"


@dataclass
class Lane:
    lane_id: str
    stats: LaneStats = field(default_factory=LaneStats)
    alarms: list[tuple[float, str]] = field(default_factory=list)
    incidents: list[Incident] = field(default_factory=list)


def _decided_at(lane: Lane, *times: float) -> None:
    for n, at in enumerate(times):
        lane.stats.record(
            TransactionRecord(
                transaction_id=f"{lane.lane_id}-{n}",
                lane=lane.lane_id,
                request_id=None,
                tag=None,
                outcome=Outcome.CLEARED,
                gross_kg=30_000,
                raw_frame=b"",
                decision=None,
                declared_gross_kg=None,
                reason="",
                stage_times=(("approach", at - 20), ("decided", at)),
            )
        )


def test_the_series_count_each_hour_and_each_lane() -> None:
    first, second = Lane("L01"), Lane("L02")
    _decided_at(first, 100, 130, 3700)
    _decided_at(second, 3800, 3830, 3860)
    first.alarms = [(200, "lane_held"), (300, "tailgating"), (3900, "lane_held")]
    second.incidents = [Incident(4000)]
    for lane in (first, second):
        lane.stats.decisions.finish(7200)  # as the report does before the page is drawn
    series = series_of([first, second], hours=2)
    assert series.per_lane_hour == {"L01": [2, 1], "L02": [0, 3]}
    assert series.holds_per_hour == [1, 1]
    assert series.incidents_per_hour == [0, 1]
    assert sum(count for _, count in series.cycle_bins) == 4  # two cycles a lane


def test_the_page_draws_every_bar_inline_and_fetches_nothing() -> None:
    lane = Lane("L01")
    _decided_at(lane, 100, 130, 3700)
    html = page({"lanes": 1, "vehicles_processed": 3}, series_of([lane], hours=2))
    assert html.count("<svg") == 3
    assert "<title>L01 h0: 2</title>" in html
    assert "<title>L01 h1: 1</title>" in html
    assert "<th>vehicles_processed</th><td>3</td>" in html
    assert not re.search(r"(src|href)=", html)
