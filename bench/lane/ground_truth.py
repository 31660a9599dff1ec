"""(a) capacity's yardsticks: the IDEAL and SEQUENTIAL ground-truth controllers, and the
real controller's capacity run beside them (see bench/lane/__init__.py)."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from bench.lane.shared import (
    CLEARANCE_MEDIAN_S,
    STALL_S,
    percentile,
    run_virtual,
    saturate,
    wall_clock,
)
from controller.central import InProcessClearance, in_process_clearance
from controller.config.lane import lane_params
from controller.core.events import (
    DeviceHealthChanged,
    InputsChanged,
    WeightReported,
)
from controller.core.image import SensorImage
from controller.core.invariants import s1_close, s3_entry_open, s4_capture, s12_zero
from controller.core.params import LaneParams
from controller.core.types import (
    Aspect,
    Decision,
    Device,
    LaneState,
    Motion,
    Side,
)
from controller.core.vehicles import DeckVehicle
from controller.runtime.loops import barrier_report
from controller.runtime.ports import MemoryJournal, VerifiedDecision
from emulators.base import EmulatedClock, run_models
from emulators.lane import EmulatedLane
from emulators.world import Phase, Truck
from simulation.emulation import memory_lane, spec_from_config, world_manifest
from simulation.engine import (
    SIM_TICK_S,
    SimLane,
    SimSpec,
    run_simulation,
)


class Stage(StrEnum):
    IDLE = "idle"  # the deck is free or freeing: admit the next cleared truck when it is
    ADMITTING = "admitting"  # entry opening, green, until the truck has passed the arm
    WEIGHING = "weighing"  # entry closing; capture once closed and the weight is stable
    RELEASING = "releasing"  # committed: exit opening, green, until it has passed the arm
    CLEARING = "clearing"  # exit closing


@dataclass
class _View:
    """What the core's invariant predicates read (controller.core.invariants.LaneView)."""

    image: SensorImage
    params: LaneParams
    state: LaneState = LaneState.IDLE
    deck: DeckVehicle | None = None
    lights: tuple[Aspect, Aspect] = (Aspect.RED, Aspect.RED)
    commanded: dict[Side, Motion | None] = field(
        default_factory=lambda: {Side.ENTRY: None, Side.EXIT: None}
    )


class GroundTruthController:
    """A lane controller with perfect senses and no latency (a yardstick, bench only).

    It is the last model of the lane's physics ticker: after the world and the device
    models advanced, it reads their true state (inputs, barrier status, the indicator's
    reading) into a `SensorImage` and acts at once on the models (barrier open/close, the
    I/O module's lamp outputs), under the same invariants and weighing policy as the
    core. A clearance decision is acted on the moment it arrives. With `pipelined`, every
    queued truck is asked for as soon as its tag is readable (IDEAL); without, the next
    truck is identified and asked for only once the deck is free (SEQUENTIAL).
    Obedient traffic only: no holds, denials or officers.
    """

    def __init__(
        self,
        lane: EmulatedLane,
        params: LaneParams,
        clearance: InProcessClearance,
        committed: set[str],
        *,
        pipelined: bool,
        clock: Callable[[], float],
    ) -> None:
        self.lane, self.world, self.params = lane, lane.world, params
        self.clearance, self.committed, self.pipelined = clearance, committed, pipelined
        self.clock = clock
        self.image = SensorImage(params)
        self.view = _View(self.image, params)
        self.image.apply(DeviceHealthChanged(clock(), Device.RFID, healthy=True))
        self.stage = Stage.IDLE
        self.deck_truck: Truck | None = None
        self.reached = {Side.ENTRY: False, Side.EXIT: False}
        self.green = {Side.ENTRY: False, Side.EXIT: False}
        self.asked: dict[str, str] = {}  # request id -> tag
        self.asked_tags: set[str] = set()
        self.granted: set[str] = set()
        self.rose: set[Side] = set()
        self.written: int | None = None
        self.departures: list[float] = []
        self._ids = itertools.count(1)

    # ------------------------------------------------------------------ the ticker's model
    def advance(self, dt: float) -> None:
        now = self.clock()
        departed = self.world.departed_count
        if departed > len(self.departures):
            self.departures += [now] * (departed - len(self.departures))
        self._sense(now)
        self._act(now)

    def _sense(self, now: float) -> None:
        lane, image = self.lane, self.image
        bits = lane.io.inputs
        named = {name: bool(bits >> ch & 1) for name, ch in lane.spec.inputs.items()}
        rose = set(image.apply(InputsChanged(now, named)).rose)
        for side in Side:
            status = lane.barriers[side.value].status()
            rose.update(image.apply(barrier_report(now, side, status)).rose)
        reading = lane.scale.reading()
        image.apply(WeightReported(now, reading.displayed_kg, reading.motion, reading.out_of_range))
        self.rose = rose

    # ------------------------------------------------------------------ acting
    def _act(self, now: float) -> None:
        if self.pipelined:
            self._identify(self._queued())
        steps = {
            Stage.IDLE: self._admit,
            Stage.ADMITTING: self._entering,
            Stage.WEIGHING: self._weigh,
            Stage.RELEASING: self._leaving,
            Stage.CLEARING: self._clearing,
        }
        while True:  # zero latency: follow every transition this tick allows
            before = self.stage
            steps[before](now)
            if self.stage == before:
                break
        self._write_lights()

    def _queued(self) -> list[Truck]:
        waiting = (Phase.APPROACH, Phase.AT_STOP)
        return [t for t in self.world.trucks if t.phase in waiting and t is not self.deck_truck]

    def _identify(self, trucks: list[Truck]) -> None:
        readable = set(self.lane.rfid.readable())
        for truck in trucks:
            if truck.tag in readable and truck.tag_hex not in self.asked_tags:
                request_id = f"gt-{next(self._ids)}"
                self.asked[request_id] = truck.tag_hex
                self.asked_tags.add(truck.tag_hex)
                lane_id = self.lane.spec.lane_id
                self.clearance.request(lane_id, request_id, truck.tag_hex, self._decided)

    def _decided(self, decision: VerifiedDecision) -> None:
        tag = self.asked.get(decision.request_id)
        if tag is not None and decision.decision in (Decision.GRANT, Decision.INSPECT):
            self.granted.add(tag)
        self._act(self.clock())  # zero latency: on the decision, not at the next tick

    def _deck_free(self, now: float) -> bool:
        view = self.view
        closed = self.image.fully_closed(Side.ENTRY)
        return closed and s3_entry_open(view) is None and s12_zero(view, now) is None

    def _admit(self, now: float) -> None:
        queued = self._queued()
        head = queued[0] if queued else None
        free = self._deck_free(now)
        if head is None or not free:
            return
        if not self.pipelined:
            self._identify([head])
        if head.tag_hex in self.granted:
            self.deck_truck, self.stage = head, Stage.ADMITTING
            self.reached = {Side.ENTRY: False, Side.EXIT: False}
            self.lane.barriers["entry"].open()

    def _pass(self, side: Side) -> None:
        """Green while fully open and the truck has not reached the arm (S2)."""
        if side in self.rose:
            self.reached[side] = True
        self.green[side] = self.image.fully_open(side) and not self.reached[side]

    def _entering(self, now: float) -> None:
        self._pass(Side.ENTRY)
        if self.reached[Side.ENTRY] and s1_close(self.view, Side.ENTRY, now) is None:
            self.lane.barriers["entry"].close()
            self.stage = Stage.WEIGHING

    def _weigh(self, now: float) -> None:
        truck = self.deck_truck
        if truck is None or not self.image.fully_closed(Side.ENTRY):
            return
        if s4_capture(self.view, now) is None:
            self.committed.add(truck.tag_hex)  # captured and committed at once
            self.lane.barriers["exit"].open()
            self.stage = Stage.RELEASING

    def _leaving(self, now: float) -> None:
        self._pass(Side.EXIT)
        clear = s1_close(self.view, Side.EXIT, now) is None
        if self.reached[Side.EXIT] and clear and self.image.deck_empty():
            self.lane.barriers["exit"].close()
            self.stage, self.deck_truck = Stage.CLEARING, None

    def _clearing(self, now: float) -> None:
        if self.image.fully_closed(Side.EXIT):
            self.stage = Stage.IDLE

    def _write_lights(self) -> None:
        out, io = self.lane.spec.outputs, self.lane.io
        pattern = 0
        for side in Side:
            pattern |= 1 << out[f"{side}_green" if self.green[side] else f"{side}_red"]
        if pattern != self.written:
            io.write_outputs(0, [pattern >> c & 1 for c in range(io.output_count)])
            self.written = pattern


@dataclass(frozen=True)
class CapacityRun:
    controller: str
    hours: float
    vehicles: int
    controller_caused: int  # incidents the world's oracle blames on the controller
    kinds: tuple[str, ...] = ()  # their kinds
    driver_caused: int = 0
    cycle_s_p50: float | None = None
    timeline: tuple[tuple[float, int], ...] = ()  # (virtual s, vehicles departed by then)
    alarms: tuple[tuple[float, str], ...] = ()

    @property
    def vehicles_per_hour(self) -> float:
        return self.vehicles / self.hours

    def departed_by(self, t: float) -> int:
        return max((n for at, n in self.timeline if at <= t), default=0)

    @property
    def stalled_at(self) -> float | None:
        """When the last vehicle left, if none left in the last STALL_S of the run."""
        last = max((at for at, n in self.timeline if n == self.vehicles), default=None)
        if self.vehicles == 0 or last is None:
            return None
        first = min(at for at, n in self.timeline if n == self.vehicles)
        return first if self.hours * 3600 - first > STALL_S else None


async def _ground_truth(hours: float, seed: int, pipelined: bool) -> CapacityRun:
    loop = asyncio.get_running_loop()
    config = memory_lane("L01")
    committed: set[str] = set()
    lane = EmulatedLane(
        spec_from_config(config),
        seed=seed,
        committed=committed.__contains__,
        tick_s=SIM_TICK_S,
    )
    clearance = in_process_clearance(
        world_manifest(lane.world),
        lanes=[config.id],
        journal=MemoryJournal(),
        wall_clock=wall_clock,
        median_s=CLEARANCE_MEDIAN_S,
        seed=seed,
    )
    controller = GroundTruthController(
        lane, lane_params(config), clearance, committed, pipelined=pipelined, clock=loop.time
    )
    models = [*lane.models, lane.io, controller]
    tasks = [
        loop.create_task(run_models(models, EmulatedClock(), period_s=SIM_TICK_S)),
        loop.create_task(saturate(lane.world, 1.0)),
    ]
    await asyncio.sleep(hours * 3600)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    clearance.cancel_all()
    oracle = lane.world.oracle
    caused = oracle.by("controller")
    gaps = [b - a for a, b in itertools.pairwise(controller.departures)]
    return CapacityRun(
        "ideal" if pipelined else "sequential",
        hours,
        lane.world.departed_count,
        len(caused),
        tuple(sorted({i.kind for i in caused})),
        len(oracle.by("driver")),
        percentile(gaps, 0.5),
        tuple((at, n) for n, at in enumerate(controller.departures, start=1)),
    )


def ground_truth_capacity(hours: float, seed: int = 0, *, pipelined: bool) -> CapacityRun:
    """One lane under the IDEAL (`pipelined`) or SEQUENTIAL controller, in virtual time."""
    return run_virtual(_ground_truth(hours, seed, pipelined))


def real_capacity(hours: float, seed: int = 0) -> CapacityRun:
    """One lane under the real runtime, through `gatectl simulate`'s machinery (its
    departures and alarms sampled every simulated minute)."""
    timeline: list[tuple[float, int]] = []
    alarms: list[tuple[float, str]] = []

    def probe(elapsed: float, lanes: list[SimLane]) -> None:
        timeline.append((elapsed, lanes[0].emulated.world.departed_count))
        alarms[:] = lanes[0].alarms

    report = run_virtual(run_simulation(SimSpec(1, hours, seed), on_minute=probe))
    detail = report["controller_caused_detail"]
    cycle = report["cycle_s_p50"]
    return CapacityRun(
        "real",
        hours,
        int(str(report["vehicles_processed"])),
        int(str(report["controller_caused_violations"])),
        tuple(str(d) for d in detail) if isinstance(detail, list) else (),
        int(str(report["driver_incidents_caused"])),
        float(cycle) if isinstance(cycle, int | float) else None,
        tuple(timeline),
        tuple(alarms),
    )
