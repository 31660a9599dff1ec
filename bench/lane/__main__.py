"""Run the lane benchmarks: `python -m bench.lane [--quick] [--part NAME] [--only A,B]`."""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bench.common import RESULTS, machine_info
from bench.lane.capacity import part_capacity
from bench.lane.identity import part_identity
from bench.lane.safe import part_safe
from bench.lane.scale import part_scale
from bench.lane.shared import ABANDONED, PartResult, Row, Settings
from bench.lane.sim import part_sim

PARTS: dict[str, Callable[[Settings], PartResult]] = {
    "capacity": part_capacity,
    "scale": part_scale,  # (b) and (d)
    "safe": part_safe,
    "sim": part_sim,
    "identity": part_identity,  # (f) the camera: two runs at once, counted in vehicles
}


PART_TIMEOUT_S = {"capacity": 3600, "safe": 900, "scale": 1800, "sim": 14400, "identity": 14400}


class PartProcess:
    """One part in a fresh interpreter (`--part NAME --out FILE`)."""

    def __init__(self, name: str, settings: Settings, tmp: Path) -> None:
        self.name, self.out = name, tmp / f"{name}.json"
        command = [sys.executable, "-m", "bench.lane", "--part", name, "--out", str(self.out)]
        command += ["--seed", str(settings.seed)] + (["--quick"] if settings.quick else [])
        print(f"bench.lane: {name} ...", flush=True)
        self.started = time.perf_counter()
        self.process = subprocess.Popen(command)  # noqa: S603 - this module, by path
        self.timeout_s = 600 if settings.quick else PART_TIMEOUT_S[name]

    def result(self) -> PartResult:
        try:
            code = self.process.wait(self.timeout_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait()
        if code != 0 or not self.out.exists():
            return [Row(f"{self.name}_failed", code, "runs to the end", ok=False)], {}
        data = json.loads(self.out.read_text())
        details: dict[str, object] = data["details"]
        details[f"{self.name}_wall_s"] = round(time.perf_counter() - self.started, 1)
        details[f"{self.name}_finished"] = machine_info()["when"]
        return [Row(**row) for row in data["rows"]], details


def run_all(settings: Settings) -> dict[str, PartResult]:
    """Capacity runs in virtual time, so its figures do not depend on the CPU it gets: it
    runs on the second core alongside safe state and scale (single-threaded, one core at
    most). The simulation, whose figure is its speed, runs alone."""
    results: dict[str, PartResult] = {}
    with tempfile.TemporaryDirectory() as tmp:
        background = PartProcess("capacity", settings, Path(tmp))
        for name in ("safe", "scale"):
            results[name] = PartProcess(name, settings, Path(tmp)).result()
        results["capacity"] = background.result()
        results["sim"] = PartProcess("sim", settings, Path(tmp)).result()
        results["identity"] = PartProcess("identity", settings, Path(tmp)).result()
    return results


def run_some(settings: Settings, names: list[str]) -> dict[str, PartResult]:
    """The named parts again, one after the other, each alone."""
    with tempfile.TemporaryDirectory() as tmp:
        return {name: PartProcess(name, settings, Path(tmp)).result() for name in names}


def _part_of(figure: str) -> str:
    prefix = figure.split("_", 1)[0]
    return {"reaction": "scale"}.get(prefix, prefix)


def write_results(settings: Settings, results: dict[str, PartResult]) -> None:
    """bench/results/lane.json; parts not run this time are kept from the file, if it
    holds a run in the same mode."""
    out = RESULTS / "lane.json"
    old: dict[str, Any] = json.loads(out.read_text()) if out.exists() else {}
    mode = "quick" if settings.quick else "full"
    if old.get("mode") != mode:
        old = {}
    runs: dict[str, object] = dict(old.get("part_runs", {}))
    figures = [f for f in old.get("figures", []) if _part_of(f["figure"]) not in results]
    details: dict[str, object] = dict(old.get("details", {}))
    for name, (rows, part_details) in results.items():
        runs[name] = part_details.get(f"{name}_finished")
        figures += [r.__dict__ | {"verdict": _verdict(r.ok)} for r in rows]
        details.update(part_details)
    order = list(PARTS)
    figures.sort(key=lambda f: order.index(_part_of(f["figure"])))
    payload = {
        "machine": machine_info(),
        "mode": mode,
        "seed": settings.seed,
        "part_runs": runs,
        "figures": figures,
        "details": details,
    }
    RESULTS.mkdir(exist_ok=True)
    out.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    print_table([Row(**{k: v for k, v in f.items() if k != "verdict"}) for f in figures])
    print(f"wrote {out}")


def _verdict(ok: bool | None) -> str:
    return "" if ok is None else ("PASS" if ok else "FAIL")


def print_table(rows: list[Row]) -> None:
    width = max(len(r.figure) for r in rows)
    print(f"\n{'figure'.ljust(width)}  {'value':>12}  {'':4}  target")
    for r in rows:
        value = "-" if r.value is None else f"{r.value}"
        print(f"{r.figure.ljust(width)}  {value:>12}  {_verdict(r.ok):4}  {r.target}")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="shorter runs (about 3 minutes)")
    parser.add_argument("--part", choices=sorted(PARTS), help="run one part in this process")
    parser.add_argument("--out", type=Path, help="with --part: write its rows here as JSON")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--only",
        help="comma-separated parts to run again; the others are kept from lane.json",
    )
    args = parser.parse_args(argv)
    settings = Settings(args.quick, args.seed)
    if args.part:
        logging.getLogger("pymodbus").setLevel(logging.CRITICAL)  # lost links are counted
        rows, details = PARTS[args.part](settings)
        if args.out is not None:
            payload = {"rows": [r.__dict__ for r in rows], "details": details}
            args.out.write_text(json.dumps(payload, default=str))
        else:
            print_table(rows)
        if ABANDONED:  # their loops are closed: leave without tearing them down
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(0)
        return
    if args.only:
        names = [n.strip() for n in args.only.split(",")]
        unknown = sorted(set(names) - set(PARTS))
        if unknown:
            parser.error(f"--only: no part {unknown}; parts: {', '.join(PARTS)}")
        write_results(settings, run_some(settings, names))
    else:
        write_results(settings, run_all(settings))


if __name__ == "__main__":
    main()
