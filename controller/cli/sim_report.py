"""`gatectl simulate`'s report for people, and its progress on a terminal.

The report is a table with units: the run, throughput (two counts, explained: the world's
trucks through the exit and the controller's committed records), timings, officers and
faults, safety (what drivers did and whether it was detected; what the controller caused,
which must be none), each alarm with how often it was raised, and each lane. `--json`
keeps the machine-readable report. Progress (simulated hours done, speed against real
time, time left) goes to stderr, and only when stderr is a terminal.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TextIO

from rich.console import Console
from rich.progress import BarColumn, Progress, ProgressColumn, Task, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

COUNTS_EXPLAINED = (
    "vehicles through: trucks the emulated world saw leave past the exit. "
    "transactions: records the controller committed, each before its vehicle's exit "
    "opened (cleared, released unweighed, rejected). They differ by the vehicles "
    "committed but still on the deck when the run ended."
)


class _Speed(ProgressColumn):
    """Simulated seconds per real second: how many times faster than real time."""

    def render(self, task: Task) -> Text:
        return Text("" if task.speed is None else f"{task.speed:,.0f}x real time")


def progress_for(stream: TextIO, hours: float) -> Progress:
    """Progress on `stream` when it is a terminal; a disabled one (prints nothing) if not."""
    console = Console(file=stream, highlight=False)
    return Progress(
        TextColumn(f"simulated {{task.fields[done_h]:.2f}} of {hours:g} h"),
        BarColumn(),
        _Speed(),
        TextColumn("left"),
        TimeRemainingColumn(),
        console=console,
        transient=True,
        disable=not stream.isatty(),
    )


def _num(value: object, unit: str = "", digits: int = 1) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.{digits}f}{unit}"
    return f"{value}{unit}"


def report_table(report: Mapping[str, object]) -> Table:
    table = Table(title="gatectl simulate", show_header=True, title_justify="left")
    table.add_column("figure")
    table.add_column("value", justify="right")
    for section, rows in _sections(report):
        table.add_section()
        table.add_row(f"[bold]{section}[/bold]", "")
        for name, value in rows:
            table.add_row(f"  {name}", value)
    return table


def _sections(r: Mapping[str, object]) -> list[tuple[str, list[tuple[str, str]]]]:
    return [
        ("run", _run(r)),
        ("throughput", _throughput(r)),
        ("timings (median)", _timings(r)),
        ("officers and faults", _officers(r)),
        ("identity (tag and plate)", _identity(r)),
        ("safety", _safety(r)),
        ("alarms raised (count)", _alarms(r)),
        ("per lane", _lanes(r)),
    ]


def _identity(r: Mapping[str, object]) -> list[tuple[str, str]]:
    return [
        ("entry camera", "on every lane" if r["camera"] else "none (tags alone)"),
        ("swapped tags (another truck's)", _num(r["swapped_tags"])),
        ("  caught before the deck", _num(r["swapped_caught_before_deck"])),
        ("  caught by weight", _num(r["swapped_caught_by_weight"])),
        ("  missed (must be 0)", _num(r["swapped_missed"])),
        ("dead tags", _num(r["dead_tags"])),
        ("identified by plate", _num(r["identified_by_plate"])),
        ("admitted on the tag alone (marked)", _num(r["admitted_on_tag_alone"])),
        ("false identity holds", _num(r["false_identity_holds"])),
        ("officer holds", _num(r["officer_holds_per_100_vehicles"], " per 100 vehicles", 2)),
        ("  of them identity holds", _num(r["identity_holds_per_100_vehicles"], " per 100", 2)),
    ]


def _run(r: Mapping[str, object]) -> list[tuple[str, str]]:
    return [
        ("lanes", _num(r["lanes"])),
        ("simulated time", _num(float(str(r["hours"])), " h", 2)),
        ("misbehaving drivers", _num(100 * float(str(r["misbehave"])), " %", 0)),
        ("wire faults", _num(float(str(r["faults_per_lane_hour"])), " per lane-hour")),
        ("speed", _num(r["speed_x_real_time"], "x real time", 0)),
    ]


def _throughput(r: Mapping[str, object]) -> list[tuple[str, str]]:
    return [
        ("vehicles through", _num(r["vehicles_processed"])),
        ("transactions committed", _num(r["transactions"])),
        ("per lane", _num(r["vehicles_per_hour_per_lane"], " vehicles/h")),
        ("whole gate", _num(r["vehicles_per_hour_gate"], " vehicles/h")),
    ]


def _timings(r: Mapping[str, object]) -> list[tuple[str, str]]:
    rows = [
        ("lane cycle, decision to decision", _num(r["cycle_s_p50"], " s", 2)),
        ("lane cycle, 95th percentile", _num(r["cycle_s_p95"], " s", 2)),
    ]
    stages = r.get("stage_s_p50")
    for name, seconds in stages.items() if isinstance(stages, Mapping) else []:
        rows.append((f"stage {name.replace('->', ' to ')}", _num(seconds, " s", 2)))
    return rows


def _officers(r: Mapping[str, object]) -> list[tuple[str, str]]:
    return [
        ("wire faults injected", _num(r["faults_injected"])),
        ("faults reset by an officer", _num(r["fault_resets_by_officer"])),
        ("holds released by an officer", _num(r["holds_released_by_officer"])),
    ]


def _safety(r: Mapping[str, object]) -> list[tuple[str, str]]:
    kinds = ", ".join(map(str, _seq(r["driver_incident_kinds"]))) or "-"
    caused = ", ".join(map(str, _seq(r["controller_caused_detail"])))
    return [
        ("driver incidents", _num(r["driver_incidents_caused"])),
        ("  of which detected by an alarm", _num(r["driver_incidents_detected"])),
        ("  kinds", kinds),
        ("controller-caused (must be 0)", _num(r["controller_caused_violations"])),
        *([("  kinds", caused)] if caused else []),
    ]


def _alarms(r: Mapping[str, object]) -> list[tuple[str, str]]:
    counts = r.get("alarm_counts")
    if not isinstance(counts, Mapping) or not counts:
        return [("none", "")]
    return [(str(code), _num(n)) for code, n in counts.items()]


def _lanes(r: Mapping[str, object]) -> list[tuple[str, str]]:
    vehicles, gaps = _seq(r["vehicles_per_lane"]), _seq(r["longest_gap_min_per_lane"])
    states = _seq(r["final_states"])
    return [
        (f"L{i + 1:02d} (vehicles; longest gap; end)", f"{v}; {_num(g, ' min')}; {s}")
        for i, (v, g, s) in enumerate(zip(vehicles, gaps, states, strict=True))
    ]


def _seq(value: object) -> list[object]:
    return list(value) if isinstance(value, list | tuple) else []
