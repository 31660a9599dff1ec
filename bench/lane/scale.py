"""(b) reaction and (d) scale: 1 to 64 lanes on the wire, CPU per lane, reaction p99."""

from __future__ import annotations

from bench.lane.shared import (
    REACTION_TARGET_MS,
    STAGGER_S,
    WIRE_CLEARANCE_MEDIAN_S,
    WIRE_PHYSICS,
    WIRE_TICK_S,
    PartResult,
    Row,
    Settings,
    ms,
    percentile,
    run_real,
)
from bench.lane.wire import LoadRun, traffic_run


def _reaction_rows(run: LoadRun, prefix: str) -> list[Row]:
    p99 = percentile(run.reactions, 0.99)
    ok = p99 is not None and p99 * 1000 <= REACTION_TARGET_MS and run.missed == 0
    return [
        Row(f"{prefix}_samples", len(run.reactions)),
        Row(f"{prefix}_p50_ms", ms(percentile(run.reactions, 0.5)), unit="ms"),
        Row(f"{prefix}_p99_ms", ms(p99), f"<= {REACTION_TARGET_MS} ms, 0 missed", ok, "ms"),
        Row(f"{prefix}_max_ms", ms(max(run.reactions, default=0.0)), unit="ms"),
        Row(f"{prefix}_missed", run.missed, "0", run.missed == 0),
    ]


def part_scale(s: Settings) -> PartResult:
    """(d), and (b) from its 8-lane run (with a longer window)."""
    baseline, warmup, window = (1.5, 5.0, 3.0) if s.quick else (10.0, 10.0, 30.0)
    rows: list[Row] = []
    reaction: list[Row] = []
    table: dict[str, object] = {}
    for count in (1, 8, 32, 64):
        span = (8.0 if s.quick else 120.0) if count == 8 else window
        run = run_real(traffic_run(count, baseline, warmup, span, seed=s.seed))
        table[str(count)] = _scale_detail(run)
        p99 = percentile(run.reactions, 0.99)
        reaction_ok = p99 is not None and p99 * 1000 <= REACTION_TARGET_MS and run.missed == 0
        rows += [
            Row(f"scale_{count}_cpu_fraction", round(run.cpu_fraction, 3), unit="cores"),
            Row(
                f"scale_{count}_cpu_per_lane_ms_per_s",
                round(run.cpu_fraction / count * 1000, 2),
                unit="ms/s",
            ),
            Row(
                f"scale_{count}_reaction_p99_ms",
                ms(p99),
                f"<= {REACTION_TARGET_MS} ms (n={len(run.reactions)})",
                reaction_ok,
                "ms",
            ),
        ]
        if count == 8:
            reaction = _reaction_rows(run, "reaction_8_lanes")
            caused = len(run.controller_caused)
            reaction.append(Row("reaction_controller_caused_violations", caused, "0", not caused))
        if count == 32:
            within = run.cpu_fraction < 1.0 and reaction_ok
            rows.append(
                Row(
                    "scale_32_within_one_core",
                    round(run.cpu_fraction, 3),
                    "< 1.0 core, reaction p99 met",
                    within,
                    "cores",
                )
            )
    details: dict[str, object] = {
        "scale": {
            "transports": "one process, one event loop; I/O modules Modbus TCP on 127.0.0.1 "
            "(polled at 20 Hz), barriers (10 Hz), scale (Toledo stream, 10 Hz) and RFID "
            "(5 Hz) in memory; the emulators and their physics run in the same process and "
            "their CPU is counted (cpu_fraction_emulators_alone: the same emulators before "
            "the runtimes started)",
            "physics": WIRE_PHYSICS,
            "physics_step_s": WIRE_TICK_S,
            "clearance_median_s": WIRE_CLEARANCE_MEDIAN_S,
            "stagger_s": STAGGER_S,
            "baseline_warmup_window_s": [baseline, warmup, window],
            "window_s_8_lanes": 8.0 if s.quick else 120.0,
            "by_lanes": table,
        }
    }
    return reaction + rows, details


def _scale_detail(run: LoadRun) -> dict[str, object]:
    controller = max(0.0, run.cpu_fraction - run.emulators_alone)
    return {
        "window_s": round(run.seconds, 1),
        "cpu_fraction_process": round(run.cpu_fraction, 3),
        "cpu_fraction_emulators_alone": round(run.emulators_alone, 3),
        "cpu_ms_per_lane_s": round(run.cpu_fraction / run.lanes * 1000, 2),
        "controller_ms_per_lane_s_estimate": round(controller / run.lanes * 1000, 2),
        "reaction_samples": len(run.reactions),
        "reaction_p50_ms": ms(percentile(run.reactions, 0.5)),
        "reaction_p99_ms": ms(percentile(run.reactions, 0.99)),
        "reaction_max_ms": ms(max(run.reactions, default=0.0)),
        "reaction_missed": run.missed,
        "vehicles_in_window": run.vehicles,
        "controller_caused": run.controller_caused,
        "tasks_ignoring_cancel": run.stuck,
        "device_unhealthy_events": run.unhealthy,
    }
