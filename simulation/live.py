"""`gatectl demo`: the controller, an emulated lane and an in-process clearance service in
one process, with no broker, and a live view of the lane.

The lane's devices are the real emulators served in memory, the controller is the real
runtime with its drivers and the in-memory transports, and the world sends trucks with a
saturated queue. On a terminal the view refreshes in place; otherwise it prints plain
lines as things happen. `--vehicles N` stops after N vehicles and prints a summary.

The lane has an entry camera (simulation/camera.py): the manifest denies every fifth
truck, and the sixth carries another truck's tag. Its plate is not the one on file for
that tag, so it is held at the approach (`identity_mismatch`) before it can reach the
deck; the demo's officer looks at it and refuses it, and it reverses out.
"""

from __future__ import annotations

import asyncio
import itertools
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from rich.console import Console
from rich.live import Live
from rich.table import Table

from controller.central import in_process_clearance
from controller.core.commands import PublishEvent
from controller.core.events import OperatorCommanded
from controller.core.params import CameraParams
from controller.core.types import ApproachStage, OperatorAction, Role
from controller.runtime.build import lane_setup
from controller.runtime.lane import LaneRuntime
from controller.runtime.ports import MemoryJournal
from devices.transport.base import MemoryHub
from devices.transport.modbus import ModbusLinks
from emulators.lane import EmulatedLane
from emulators.world import Behaviour
from simulation.camera import SimCamera
from simulation.emulation import memory_lane, spec_from_config, world_manifest

SWAPPED_TRUCK = 6  # the demo's sixth truck carries another truck's tag
OFFICER_LOOKS_S = 5.0  # the demo's officer decides a held approach vehicle this much later
SHOWN_EVENTS = frozenset(
    {
        "vehicle_identified",
        "identity_checked",
        "identity_confirmed",
        "vehicle_refused",
        "clearance_decided",
        "vehicle_admitted",
        "weight_captured",
        "transaction_committed",
        "vehicle_departed",
        "alarm",
        "state_changed",
        "approach_cleared",
    }
)


@dataclass
class DemoLane:
    journal: MemoryJournal = field(default_factory=MemoryJournal)
    events: list[str] = field(default_factory=list)
    runtime: LaneRuntime | None = None
    emulated: EmulatedLane | None = None
    started: float = 0.0  # loop time at the start: plain lines say seconds since


async def run_live_demo(vehicles: int, time_scale: float, seed: int, console: Console) -> DemoLane:
    demo = DemoLane(started=asyncio.get_running_loop().time())
    config = memory_lane("L01", time_scale=time_scale)
    hub, links = MemoryHub(), ModbusLinks()
    emulated = EmulatedLane(spec_from_config(config), seed=seed, committed=_committed(demo))
    demo.emulated = emulated
    clearance = in_process_clearance(
        world_manifest(emulated.world, deny_every=5),
        lanes=["L01"],
        journal=demo.journal,
        wall_clock=time.time,
        median_s=emulated.spec.clearance_median_s / time_scale,
        seed=seed,
    )
    interactive = sys.stdout.isatty()
    camera = SimCamera(emulated.world, "L01-entry", seed, time.time())
    async with emulated.serve(hub):
        setup = await lane_setup(config, links=links, hub=hub)
        setup = replace(setup, params=replace(setup.params, camera=CameraParams()))
        ids = (f"{seed:04d}-{i:06d}" for i in itertools.count(1))
        runtime = LaneRuntime(setup, demo.journal, clearance, new_id=ids.__next__)
        demo.runtime = runtime
        runtime.listeners.append(lambda lane, e: _log(demo, console, e, plain=not interactive))
        tasks = [
            asyncio.create_task(runtime.run(), name="lane:L01"),
            asyncio.create_task(camera.run(runtime, time_scale), name="camera:L01"),
            asyncio.create_task(_officer(runtime), name="officer:L01"),
        ]
        try:
            await _traffic(demo, emulated, vehicles, console, interactive)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            clearance.cancel_all()
    _summary(demo, console)
    return demo


async def _officer(runtime: LaneRuntime) -> None:
    """The demo's officer: a vehicle held at the approach is looked at and, its plate not
    being the one on file for its tag, refused (it reverses out)."""
    loop = asyncio.get_running_loop()
    while True:
        await asyncio.sleep(OFFICER_LOOKS_S)
        core = runtime.core
        approach = core.approach if core is not None else None
        if approach is not None and approach.stage == ApproachStage.MISMATCH:
            runtime.feed(
                OperatorCommanded(
                    loop.time(),
                    OperatorAction.REFUSE,
                    "officer.demo",
                    Role.OFFICER,
                    authenticated=True,
                    reason="the plate is not the one on the papers for this tag",
                )
            )


def _committed(demo: DemoLane) -> Callable[[str], bool]:
    def check(tag: str) -> bool:
        return any(r.tag == tag for r in demo.journal.transactions.values())

    return check


async def _traffic(
    demo: DemoLane, lane: EmulatedLane, vehicles: int, console: Console, interactive: bool
) -> None:
    world, spawned = lane.world, 0
    with (
        Live(_view(demo), console=console, refresh_per_second=4, transient=False)
        if interactive
        else _NoLive() as live
    ):
        while world.departed_count + world.turned_away_count < vehicles:
            if world.queue_length < 2 and spawned < vehicles:
                spawned += 1
                swapped = spawned == SWAPPED_TRUCK
                world.spawn(world.make_truck(Behaviour.SWAPPED_TAG if swapped else Behaviour.OBEY))
            await asyncio.sleep(0.25)
            if interactive:
                live.update(_view(demo))


class _NoLive:
    def __enter__(self) -> _NoLive:
        return self

    def __exit__(self, *_: object) -> None:
        return None

    def update(self, _renderable: object) -> None:
        return None


def _log(demo: DemoLane, console: Console, event: PublishEvent, *, plain: bool) -> None:
    if event.type not in SHOWN_EVENTS:
        return
    elapsed = asyncio.get_running_loop().time() - demo.started
    line = event_text(event)
    demo.events.append(line)
    if plain:
        console.print(f"{elapsed:9.2f}s  {line}", highlight=False, soft_wrap=True)


def event_text(event: PublishEvent) -> str:
    """One line for a lane event: what happened, then its data as key=value."""
    data = dict(event.data)
    if event.type == "state_changed":
        return f"{event.type:<22} {data.get('previous')} -> {data.get('state')}"
    if event.type == "approach_cleared":  # the truck left the approach without entering
        stage = data.get("stage")
        what = "reversed out (denied)" if stage == ApproachStage.DENIED else f"left ({stage})"
        return f"{'approach_cleared':<22} the truck at the approach {what}"
    return f"{event.type:<22} " + " ".join(f"{k}={v}" for k, v in data.items())


def shown_kg(weight: object, zero_band_kg: float) -> str:
    """The deck weight as a person reads it: noise about zero (within the lane's zero
    band, where the controller too takes the deck as empty) shows as 0 kg."""
    if not isinstance(weight, int | float):
        return "- kg"
    return f"{0 if abs(weight) <= zero_band_kg else round(weight):,} kg"


def _view(demo: DemoLane) -> Table:
    table = Table(title="gatebridge demo: lane L01 (emulated devices, in-process clearance)")
    table.add_column("lane", style="bold")
    table.add_column("")
    runtime = demo.runtime
    snap = runtime.snapshot() if runtime is not None else {}
    lights = snap.get("lights", {})
    barriers = snap.get("barriers")
    world = demo.emulated.world if demo.emulated else None
    band = runtime.setup.params.zero_band_kg if runtime is not None else 0.0
    rows = [
        ("state", str(snap.get("state", "starting"))),
        ("lights", f"entry {_lamp(lights, 'entry')}  exit {_lamp(lights, 'exit')}"),
        ("barriers", _barriers(barriers)),
        (
            "deck",
            f"{shown_kg(snap.get('deck_kg'), band)}  vehicle {snap.get('deck_vehicle') or '-'}",
        ),
        ("approach", _approach(runtime)),
        ("queue", str(world.queue_length if world else 0)),
        ("transactions", str(len(demo.journal.transactions))),
        ("alarms", _alarm_names(snap.get("alarms"))),
    ]
    for name, value in rows:
        table.add_row(name, value)
    for line in demo.events[-6:]:
        table.add_row("", line)
    return table


def _approach(runtime: LaneRuntime | None) -> str:
    core = runtime.core if runtime is not None else None
    approach = core.approach if core is not None else None
    if approach is None:
        return "-"
    best = approach.best_read()
    plate = "-" if best is None else f"{best.plate} ({best.confidence:.2f})"
    on_file = approach.expected_plate or "-"
    return f"{approach.stage.value}  tag {approach.tag or '-'}  plate {plate}  on file {on_file}"


def _barriers(barriers: object) -> str:
    if not isinstance(barriers, dict):
        return "-"
    return f"entry {barriers.get('entry', '-')}  exit {barriers.get('exit', '-')}"


def _lamp(lights: object, side: str) -> str:
    aspect = dict(lights).get(side, "red") if isinstance(lights, dict) else "red"
    return "[green]GREEN[/green]" if aspect == "green" else "[red]RED[/red]"


def _summary(demo: DemoLane, console: Console) -> None:
    table = Table(title="transactions (committed before each exit opened)")
    for column in ("transaction", "tag", "outcome", "gross kg"):
        table.add_column(column)
    for record in demo.journal.transactions.values():
        gross = "-" if record.gross_kg is None else f"{record.gross_kg:,}"
        table.add_row(record.transaction_id, record.tag or "-", record.outcome.value, gross)
    console.print(table)
    world = demo.emulated.world if demo.emulated else None
    caused = world.oracle.by("controller") if world else []
    through = world.departed_count if world else 0
    turned = world.turned_away_count if world else 0
    refused = sum("vehicle_refused" in line for line in demo.events)
    console.print(
        f"vehicles through: {through}; denied or refused, reversed out: {turned} "
        f"(held at the approach for identity and refused: {refused}); "
        f"controller-caused safety incidents: {len(caused)}"
    )


def _alarm_names(alarms: object) -> str:
    return ", ".join(alarms) if isinstance(alarms, dict) and alarms else "-"
