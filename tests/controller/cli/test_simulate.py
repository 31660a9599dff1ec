"""`gatectl simulate` in virtual time: the full polling stack, faults and misbehaving
drivers, and the oracle's verdict on what the controller caused."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from controller.cli.simulate import simulate
from controller.runtime.virtual_loop import VirtualTimeLoop
from simulation.engine import SimSpec, run_simulation


def run(tmp_path: Path, hours: float, faults: float, misbehave: float) -> dict[str, Any]:
    out = tmp_path / "report.json"
    code = simulate(1, hours, 3, faults, misbehave, out, Console(file=io.StringIO()))
    report: dict[str, Any] = json.loads(out.read_text())
    assert code == (1 if report["controller_caused_violations"] else 0)
    return report


def test_an_obedient_queue_flows_at_the_lane_cycle(tmp_path: Path) -> None:
    report = run(tmp_path, 0.1, 0.0, 0.0)
    assert report["controller_caused_violations"] == 0
    assert report["vehicles_processed"] >= 10  # 6 minutes at about 27 s per vehicle
    assert report["driver_incidents_caused"] == 0
    assert report["vehicles_per_lane"] == [report["vehicles_processed"]]
    gap = report["longest_gap_min_per_lane"][0]
    assert 0.3 < gap < 1.5  # the first vehicle's approach, then a 27 s cycle: no stall


def test_faults_and_misbehaviour_cause_no_controller_violation(tmp_path: Path) -> None:
    report = run(tmp_path, 0.25, 6.0, 0.2)
    assert report["controller_caused_violations"] == 0
    assert report["vehicles_processed"] >= 3
    assert report["faults_injected"] >= 1


@pytest.mark.parametrize(
    ("hours", "marks"), [(0.1, [60.0 * m for m in range(1, 7)]), (0.005, [18.0])]
)
def test_a_run_lasts_exactly_its_hours_minute_by_minute(hours: float, marks: list[float]) -> None:
    # a loop on "before the end" once ran a minute too many when the clock's sum fell a
    # hair short of the end; a run shorter than a minute ran a whole one
    seen: list[float] = []
    loop = VirtualTimeLoop(0.1)  # an origin whose sums round
    try:
        loop.run_until_complete(
            run_simulation(SimSpec(1, hours, 3), on_minute=lambda t, _: seen.append(t))
        )
    finally:
        loop.close()
    assert seen == pytest.approx(marks, abs=1e-6)


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_report_is_a_table_with_units_and_counts_per_alarm(tmp_path: Path) -> None:
    out, quiet = io.StringIO(), io.StringIO()
    json_path = tmp_path / "report.json"
    simulate(1, 0.1, 3, 0.0, 0.3, json_path, Console(file=out, width=100), progress_to=quiet)
    text, report = out.getvalue(), json.loads(json_path.read_text())
    assert quiet.getvalue() == ""  # not a terminal: no progress, nothing extra
    assert f"{report['speed_x_real_time']:,.0f}x real time" in text
    assert report["speed_x_real_time"] == round(report["speed_x_real_time"], 1)
    assert f"{report['cycle_s_p50']:.2f} s" in text
    assert "vehicles/h" in text
    assert "vehicles through: trucks the emulated world saw leave" in text  # explained
    counts = report["alarm_counts"]
    assert set(counts) == set(report["alarms_raised"])
    assert counts, "a third of the drivers misbehave: some alarm is raised"
    for code, count in counts.items():
        assert any(
            code in line and line.rstrip(" │").endswith(f" {count}") for line in text.splitlines()
        )
    assert "speed_x_real_time" not in text  # not a dump of the JSON keys


def test_progress_shows_on_a_terminal_only() -> None:
    terminal = Terminal()
    simulate(1, 0.02, 3, 0.0, 0.0, None, Console(file=io.StringIO()), progress_to=terminal)
    shown = terminal.getvalue()
    assert "simulated" in shown
    assert "of 0.02 h" in shown
    assert "x real time" in shown  # the speed, and the time left
    assert "left" in shown
