"""(a) capacity: the real controller against the ideal and the sequential yardsticks."""

from __future__ import annotations

import math

from bench.lane.ground_truth import ground_truth_capacity, real_capacity
from bench.lane.shared import PartResult, Row, Settings


def part_capacity(s: Settings) -> PartResult:
    real = real_capacity(s.capacity_hours, s.seed)
    ideal = ground_truth_capacity(s.capacity_hours, s.seed, pipelined=True)
    seq = ground_truth_capacity(s.capacity_hours, s.seed, pipelined=False)
    vs_ideal = real.vehicles_per_hour / ideal.vehicles_per_hour
    vs_seq = real.vehicles_per_hour / seq.vehicles_per_hour
    violations = real.controller_caused + ideal.controller_caused + seq.controller_caused
    stall = real.stalled_at
    rows = [
        Row("capacity_real_veh_per_h", round(real.vehicles_per_hour, 1), unit="veh/h"),
        Row("capacity_ideal_veh_per_h", round(ideal.vehicles_per_hour, 1), unit="veh/h"),
        Row("capacity_sequential_veh_per_h", round(seq.vehicles_per_hour, 1), unit="veh/h"),
        Row("capacity_real_vs_ideal", round(vs_ideal, 3), ">= 0.97", vs_ideal >= 0.97),
        Row("capacity_real_vs_sequential", round(vs_seq, 3), ">= 1.10", vs_seq >= 1.10),
        Row(
            "capacity_real_stalled_at_h",
            None if stall is None else round(stall / 3600, 2),
            "no stall (no vehicle out for 10 min)",
            stall is None,
            "h",
        ),
    ]
    if stall is not None:  # the same comparison over the time the real lane flowed
        n_real, n_ideal, n_seq = (r.departed_by(stall) for r in (real, ideal, seq))
        rows += [
            Row(
                "capacity_real_vs_ideal_until_stall",
                round(n_real / n_ideal, 3),
                ">= 0.97",
                n_real / n_ideal >= 0.97,
            ),
            Row(
                "capacity_real_vs_sequential_until_stall",
                round(n_real / n_seq, 3),
                ">= 1.10",
                n_real / n_seq >= 1.10,
            ),
        ]
    rows.append(Row("capacity_controller_caused_violations", violations, "0", violations == 0))
    details: dict[str, object] = {
        "capacity": {
            run.controller: {
                "hours": run.hours,
                "vehicles": run.vehicles,
                "vehicles_per_hour": round(run.vehicles_per_hour, 2),
                "cycle_s_p50": run.cycle_s_p50,
                "controller_caused": run.controller_caused,
                "controller_caused_kinds": list(run.kinds),
                "stalled_at_s": run.stalled_at,
                "departed_by_hour": [run.departed_by(h * 3600.0) for h in range(1, 25)][
                    : math.ceil(run.hours)
                ],
                "alarms": sorted({code for _, code in run.alarms}),
                "first_alarms": [(round(at), code) for at, code in run.alarms[:5]],
            }
            for run in (real, ideal, seq)
        }
        | {
            "note": "one lane, saturated queue, default physics, seed "
            f"{s.seed}; real cycle_s_p50 is decision to decision, the others departure "
            "to departure",
        }
    }
    return rows, details
