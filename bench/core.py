"""Core throughput: events/s through the pure core (with the interlock filter), and
hypothesis state-machine steps/s with zero invariant violations.

Run: .venv/bin/python -m bench.core [--vehicles N] [--examples N]
The event trace is recorded from the scripted lane (vehicles end to end, with the weight
reports of a real indicator) and replayed into fresh cores, so only the core is timed.
Target (DESIGN section 9): >= 50,000 events/s on one core.
"""

from __future__ import annotations

import argparse
import itertools
import time

from bench.common import report
from controller.core.events import Event
from controller.core.lane import LaneCore
from simulation.scripted import ScriptedLane, Truck


def record_trace(vehicles: int) -> list[Event]:
    lane = ScriptedLane()
    trace: list[Event] = []
    feed = lane.core.handle

    def recording(event: Event) -> list[object]:
        trace.append(event)
        return feed(event)  # type: ignore[return-value]

    lane.core.handle = recording  # type: ignore[method-assign,assignment]
    lane.run_for(2.0)
    for i in range(vehicles):
        assert lane.process(Truck(f"E2{i:06d}", 20000 + 37 * i)), f"vehicle {i} stuck"
    return trace


def replay(trace: list[Event], rounds: int) -> float:
    start = time.perf_counter()
    for _ in range(rounds):
        ids = (f"id-{i}" for i in itertools.count(1))
        core = LaneCore(new_id=ids.__next__)
        core.start(0.0)
        handle = core.handle
        for event in trace:
            handle(event)
    return time.perf_counter() - start


def stateful_steps(examples: int) -> tuple[int, float]:
    from hypothesis import settings
    from hypothesis.stateful import run_state_machine_as_test

    from tests.core.machine import LaneMachine

    steps = itertools.count()

    class Counting(LaneMachine):
        def feed(self, event: Event) -> None:
            next(steps)
            super().feed(event)

    start = time.perf_counter()
    run_state_machine_as_test(
        Counting, settings=settings(max_examples=examples, stateful_step_count=100, deadline=None)
    )
    return next(steps), time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--vehicles", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--examples", type=int, default=300)
    args = parser.parse_args()
    trace = record_trace(args.vehicles)
    elapsed = replay(trace, args.rounds)
    events = len(trace) * args.rounds
    steps, step_s = stateful_steps(args.examples)
    rows: list[tuple[str, object, str]] = [
        ("events_per_s", events / elapsed, ">= 50,000"),
        ("us_per_event", elapsed / events * 1e6, ""),
        ("trace_events_per_vehicle", len(trace) / args.vehicles, ""),
        ("stateful_steps", steps, ""),
        ("stateful_steps_per_s", steps / step_s, ""),
        ("stateful_violations", 0, "0 (a violation fails the run)"),
    ]
    report("core", rows, {"vehicles": args.vehicles, "rounds": args.rounds})


if __name__ == "__main__":
    main()
