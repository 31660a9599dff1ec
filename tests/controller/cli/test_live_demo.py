"""`gatectl demo` end to end in virtual time: the real runtime, drivers, in-memory
transports and emulators; every vehicle committed, a denial reversed out, a swapped tag
held at the approach and refused before it reached the deck, no incident."""

from __future__ import annotations

import io
import re

import pytest
from rich.console import Console

from controller.cli.demo import run_demo
from controller.core.types import Aspect, Outcome
from simulation.live import _view, run_live_demo, shown_kg
from simulation.scripted import ScriptedLane, Truck


@pytest.mark.looptime(start=5000.0)  # a loop clock far from 0, like a gateway's uptime
async def test_the_demo_runs_vehicles_through_and_reports() -> None:
    out = io.StringIO()
    demo = await run_live_demo(6, 4.0, 1, Console(file=out, width=120))
    assert demo.emulated is not None
    world = demo.emulated.world
    assert len(world.departed) == 4
    # the manifest denies every 5th truck; the 6th carries another's tag: held, refused
    assert [t.ident for t in world.turned_away] == [5, 6]
    swapped = world.turned_away[1]
    assert swapped.plate != swapped.papers_plate
    assert swapped.front < 0  # it never passed the entry arm
    records = list(demo.journal.transactions.values())
    assert [r.outcome for r in records] == [Outcome.CLEARED] * 4
    assert {r.tag for r in records} == {t.tag_hex for t in world.departed}
    assert world.oracle.by("controller") == []
    text = out.getvalue()
    assert "vehicle_admitted" in text  # plain lines when stdout is not a terminal
    # each stamped with the seconds since the demo started (the first at boot, under 5 s)
    first = next(line for line in text.splitlines() if "state_changed" in line)
    assert 0.0 <= float(first.split("s", 1)[0]) < 5.0
    assert "vehicles through: 4; denied or refused, reversed out: 2" in text
    assert "(held at the approach for identity and refused: 1)" in text
    held = next(line for line in text.splitlines() if "verdict=hold" in line)
    assert f"tag={swapped.tag_hex}" in held
    assert f"plate={swapped.plate}" in held
    # the denied truck's reverse-out has its line
    assert "approach_cleared       the truck at the approach reversed out (denied)" in text


@pytest.mark.looptime
async def test_the_live_view_shows_words_and_a_zero_deck_as_0_kg() -> None:
    demo = await run_live_demo(1, 4.0, 1, Console(file=io.StringIO(), width=120))
    out = io.StringIO()
    Console(file=out, width=120).print(_view(demo))
    view = out.getvalue()
    assert re.search(r"│ barriers     │ entry [a-z]+  exit [a-z]+ ", view)
    assert "{'" not in view  # no Python dicts
    assert "│ deck         │ 0 kg  vehicle -" in view


def test_weight_noise_about_zero_reads_0_kg() -> None:
    assert [shown_kg(w, 20.0) for w in (-2.4, 0.0, 19.9, -20.0)] == ["0 kg"] * 4
    assert shown_kg(-35.2, 20.0) == "-35 kg"  # beyond the zero band: shown as it is
    assert shown_kg(24_480.6, 20.0) == "24,481 kg"
    assert shown_kg(None, 20.0) == "- kg"


def test_the_scripted_demos_trucks_are_fully_on_the_deck() -> None:
    lane = run_demo(Console(file=io.StringIO()), verbose=False)
    alarms = [e.data.get("code") for e in lane.events if e.type == "alarm"]
    assert "vehicle_not_fully_on_deck" not in alarms
    assert "lane_held" in alarms  # the weight-mismatch truck is still held


def test_a_scripted_truck_that_stops_over_the_beam_is_still_alarmed() -> None:
    lane = ScriptedLane()
    truck = Truck("E1", 20000)
    lane.arrive(truck)
    assert lane.run_until(lambda: lane.lights[0] == Aspect.GREEN, 60.0)
    lane.set_inputs(approach_loop=False, entry_arm_loop=True)
    lane.run_for(1.5)
    lane.set_inputs(entry_arm_loop=False, beam_in=True)
    lane.load_kg = 15000.0  # and the driver stops here, half on the deck
    lane.run_for(10.0)
    assert any(
        e.type == "alarm" and e.data.get("code") == "vehicle_not_fully_on_deck" for e in lane.events
    )
