"""`gatectl simulate`: the simulation (simulation/engine.py) with its report as a table,
progress on a terminal, and the JSON and HTML reports."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TextIO

from rich.console import Console

from controller.cli.sim_report import COUNTS_EXPLAINED, progress_for, report_table
from simulation import SimLane, SimSpec
from simulation import simulate as run
from simulation.html import page, series_of


def simulate(
    lanes: int,
    hours: float,
    seed: int,
    faults: float,
    misbehave: float,
    json_out: Path | None,
    console: Console,
    progress_to: TextIO | None = None,
    html_out: Path | None = None,
    *,
    camera: bool = True,
) -> int:
    """Run, print the report (a table), write `json_out`; exit code 1 on a controller-caused
    violation. Progress goes to `progress_to` (stderr) only when it is a terminal."""
    ran: list[SimLane] = []
    spec = SimSpec(lanes, hours, seed, faults, misbehave, camera)
    with progress_for(progress_to or sys.stderr, hours) as progress:
        report = run(spec, progress, on_done=ran.extend)
    if html_out is not None:  # the page's plots (sim_html.py) from the lanes as they ended
        html_out.write_text(page(report, series_of(ran, hours)), encoding="utf-8")
    console.print(report_table(report))
    console.print(COUNTS_EXPLAINED, highlight=False)
    if json_out is not None:
        json_out.write_text(json.dumps(report, indent=2) + "\n")
    return 1 if report["controller_caused_violations"] else 0
