"""(b, c, d): lanes on the wire in real time: I/O modules on Modbus TCP, the rest in
memory, and the traffic run that measures reaction and CPU."""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from collections.abc import Callable, Mapping
from contextlib import AsyncExitStack
from dataclasses import dataclass

from bench.lane.shared import (
    REACTION_MISS_S,
    STAGGER_S,
    STOP_TIMEOUT_S,
    WIRE_CLEARANCE_MEDIAN_S,
    WIRE_LINK_TIMEOUT_S,
    WIRE_PHYSICS,
    WIRE_TICK_S,
    _report_stuck,
    free_port,
    saturate,
    wall_clock,
)
from controller.central import InProcessClearance, in_process_clearance
from controller.config.models import LaneConfig
from controller.runtime.build import lane_setup
from controller.runtime.lane import LaneRuntime
from controller.runtime.ports import MemoryJournal
from devices.transport.base import MemoryHub
from devices.transport.modbus import ModbusLinks
from emulators.io.model import IoModel
from emulators.lane import EmulatedLane
from emulators.panel import ModelPanel
from simulation.emulation import memory_lane, spec_from_config, world_manifest
from simulation.engine import (
    committed_check,
)


class WireIo(IoModel):
    """The I/O module, timestamped at its wire (loop time): arm-loop edges as the world
    sets them in the input image, coil writes as they arrive from the controller.

    A rising arm loop while that side's green is on opens a reaction; the first coil write
    that turns that green off closes it."""

    def __init__(self, template: IoModel, arm_to_green: Mapping[int, int]) -> None:
        super().__init__(
            template.input_count, template.output_count, safe_pattern=template.safe_pattern
        )
        self.arm_to_green = dict(arm_to_green)
        self.level: dict[int, bool] = {}
        self.pending: dict[int, float] = {}  # green channel -> when presence rose
        self.reactions: list[float] = []
        self.missed = 0
        self.on_write: Callable[[float, int, int], None] | None = None

    def set_input(self, channel: int, active: bool) -> None:
        super().set_input(channel, active)
        green = self.arm_to_green.get(channel)
        if green is None or self.level.get(channel) == active:
            return
        self.level[channel] = active
        if active and self.output(green):
            now = asyncio.get_running_loop().time()
            self._sweep(now)
            self.pending.setdefault(green, now)

    def write_outputs(self, first: int, bits: list[int]) -> bool:
        before = self.outputs
        if not super().write_outputs(first, bits):
            return False
        now, after = asyncio.get_running_loop().time(), self.outputs
        for green, since in list(self.pending.items()):
            if not after >> green & 1:
                self.reactions.append(now - since)
                del self.pending[green]
        self._sweep(now)
        if self.on_write is not None:
            self.on_write(now, before, after)
        return True

    def finish(self, now: float) -> None:
        """At the end of a run: a reaction still open past REACTION_MISS_S is a miss."""
        self._sweep(now)

    def _sweep(self, now: float) -> None:
        for green, since in list(self.pending.items()):
            if now - since > REACTION_MISS_S:
                self.missed += 1
                del self.pending[green]


@dataclass
class WireLane:
    config: LaneConfig
    emulated: EmulatedLane
    io: WireIo
    journal: MemoryJournal
    runtime: LaneRuntime
    clearance: InProcessClearance


def _tcp_lane(lane_id: str) -> LaneConfig:
    """The in-memory lane of `gatectl simulate` with WIRE_PHYSICS, its I/O module on
    loopback TCP."""
    document = memory_lane(lane_id, **WIRE_PHYSICS).model_dump(mode="json")
    document["io"]["url"] = f"modbus-tcp://127.0.0.1:{free_port()}"
    return LaneConfig.model_validate(document)


def _wire_emulation(
    config: LaneConfig, seed: int, journal: MemoryJournal
) -> tuple[EmulatedLane, WireIo]:
    emulated = EmulatedLane(
        spec_from_config(config),
        seed=seed,
        committed=committed_check(journal),
        tick_s=WIRE_TICK_S,
    )
    spec = emulated.spec
    arm_to_green = {
        spec.inputs["entry_arm_loop"]: spec.outputs["entry_green"],
        spec.inputs["exit_arm_loop"]: spec.outputs["exit_green"],
    }
    io = WireIo(emulated.io, arm_to_green)
    # the bench's I/O module stands in for the lane's own, for the wire and the world alike
    emulated.io = io
    emulated.world.panel = ModelPanel(
        io,
        inputs=spec.inputs,
        outputs=spec.outputs,
        barriers=emulated.barriers,
        scale=emulated.scale,
        rfid=emulated.rfid,
    )
    return emulated, io


async def open_wire_lanes(count: int, stack: AsyncExitStack, *, seed: int) -> list[WireLane]:
    """`count` lanes served (I/O on loopback TCP, the rest in memory), their runtimes
    built (not started)."""
    hub, links = MemoryHub(), ModbusLinks(timeout_s=WIRE_LINK_TIMEOUT_S)
    stack.push_async_callback(links.close)
    lanes: list[WireLane] = []
    for index in range(count):
        config = _tcp_lane(f"L{index + 1:02d}")
        journal = MemoryJournal()
        emulated, io = _wire_emulation(config, seed + index, journal)
        await stack.enter_async_context(emulated.serve(hub))
        clearance = in_process_clearance(
            world_manifest(emulated.world),
            lanes=[config.id],
            journal=journal,
            wall_clock=wall_clock,
            median_s=WIRE_CLEARANCE_MEDIAN_S,
            seed=seed + index,
        )
        setup = await lane_setup(config, links=links, hub=hub)
        ids = (f"{config.id}-{i}" for i in itertools.count(1))
        runtime = LaneRuntime(setup, journal, clearance, new_id=ids.__next__)
        lanes.append(WireLane(config, emulated, io, journal, runtime, clearance))
    return lanes


async def stop_lanes(tasks: list[asyncio.Task[None]], lanes: list[WireLane]) -> int:
    """Cancel the lanes' tasks; the number that did not end within STOP_TIMEOUT_S."""
    for task in tasks:
        task.cancel()
    _, stuck = await asyncio.wait(tasks, timeout=STOP_TIMEOUT_S) if tasks else (set(), set())
    _report_stuck(list(stuck))
    for lane in lanes:
        lane.clearance.cancel_all()
    return len(stuck)


@dataclass
class LoadRun:
    lanes: int
    seconds: float
    cpu_s: float
    reactions: list[float]
    missed: int
    vehicles: int
    controller_caused: list[str]
    stuck: int = 0
    unhealthy: int = 0  # device_unhealthy events in the window (a device seen stale)
    emulators_alone: float = 0.0  # CPU fraction of the emulators before the runtimes ran

    @property
    def cpu_fraction(self) -> float:
        return self.cpu_s / self.seconds


async def _cpu_over(seconds: float) -> tuple[float, float]:
    """(process CPU seconds, wall seconds) over `seconds` of real time."""
    cpu0, wall0 = time.process_time(), time.perf_counter()
    await asyncio.sleep(seconds)
    return time.process_time() - cpu0, time.perf_counter() - wall0


async def _staggered(runtime: LaneRuntime, delay_s: float) -> None:
    await asyncio.sleep(delay_s)
    await runtime.run()


async def traffic_run(
    count: int, baseline_s: float, warmup_s: float, window_s: float, *, seed: int
) -> LoadRun:
    """`count` lanes in real time with saturated queues. First the emulators alone for
    `baseline_s` (served, physics running, trucks queueing, nobody polling); then each
    runtime starts at a random moment within STAGGER_S (lanes out of step, as in a real
    gate), and `warmup_s` after the first the process CPU time is taken over `window_s`.
    Reactions count from the runtimes' start to the end."""
    loop = asyncio.get_running_loop()
    rng = random.Random(seed)
    async with AsyncExitStack() as stack:
        lanes = await open_wire_lanes(count, stack, seed=seed)
        tasks = [loop.create_task(saturate(lane.emulated.world, 1.0)) for lane in lanes]
        await asyncio.sleep(0.5)
        baseline = await _cpu_over(baseline_s)
        tasks += [
            loop.create_task(_staggered(lane.runtime, rng.uniform(0, STAGGER_S))) for lane in lanes
        ]
        await asyncio.sleep(warmup_s)
        departed = sum(lane.emulated.world.departed_count for lane in lanes)
        unhealthy = _unhealthy(lanes)
        cpu_s, wall_s = await _cpu_over(window_s)
        unhealthy = _unhealthy(lanes) - unhealthy
        for lane in lanes:
            lane.io.finish(loop.time())
        stuck = await stop_lanes(tasks, lanes)
        return LoadRun(
            count,
            wall_s,
            cpu_s,
            [r for lane in lanes for r in lane.io.reactions],
            sum(lane.io.missed for lane in lanes),
            sum(lane.emulated.world.departed_count for lane in lanes) - departed,
            [i.kind for lane in lanes for i in lane.emulated.world.oracle.by("controller")],
            stuck,
            unhealthy,
            baseline[0] / baseline[1],
        )


def _unhealthy(lanes: list[WireLane]) -> int:
    return sum(
        type_ == "device_unhealthy"
        for lane in lanes
        for events in lane.journal.events.values()
        for type_, _ in events
    )


# ------------------------------------------------------------------ (c) safe state
