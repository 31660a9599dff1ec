"""Shared bench plumbing: machine info, a table printer, and the JSON result writer."""

from __future__ import annotations

import json
import os
import platform
import sys
from datetime import UTC, datetime
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def machine_info() -> dict[str, object]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def report(name: str, rows: list[tuple[str, object, str]], extra: dict[str, object]) -> Path:
    """Print a table of (figure, value, target) and write bench/results/NAME.json."""
    width = max(len(r[0]) for r in rows)
    print(f"\n{name}")
    print(f"{'figure'.ljust(width)}  {'value':>14}  target")
    for figure, value, target in rows:
        shown = f"{value:,.1f}" if isinstance(value, float) else str(value)
        print(f"{figure.ljust(width)}  {shown:>14}  {target}")
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"{name}.json"
    payload = {"machine": machine_info(), **{r[0]: r[1] for r in rows}, **extra}
    out.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    print(f"wrote {out}")
    return out
