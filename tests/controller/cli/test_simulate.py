"""`gatectl simulate` in virtual time: the full polling stack, faults and misbehaving
drivers, and the oracle's verdict on what the controller caused."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

from rich.console import Console

from controller.cli.simulate import simulate


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
