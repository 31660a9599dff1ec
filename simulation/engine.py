"""The whole-gate simulation: many emulated lanes through the full polling stack in one
virtual-time event loop (controller/runtime/virtual_loop.py), with officers, faults and
misbehaving drivers. `gatectl simulate`, the benchmarks and the tests call `simulate`.

Theory of operation: each lane is the real runtime (drivers, in-memory transports)
against its emulated devices and world, with a saturated queue of trucks and an
in-process clearance service. The loop's clock jumps to the next timer whenever every
task waits, so hours pass in minutes. An officer on duty releases a held vehicle (or
rejects a tailgater) after a minute, and resets a latched fault once the devices answer.
Wire faults (silent devices, from half a second to beyond latch_ms) arrive as a Poisson
process. The report separates what the controller caused (must be 0) from what drivers
caused (each must be detected: an alarm on that lane around the incident).
"""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from collections import Counter
from collections.abc import Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field, replace

from rich.progress import Progress

from controller.central import InProcessClearance, in_process_clearance
from controller.core.commands import PublishEvent
from controller.core.events import OperatorCommanded
from controller.core.lane import LaneCore
from controller.core.params import CameraParams
from controller.core.types import ApproachStage, LaneState, OperatorAction, Role
from controller.runtime.build import lane_setup
from controller.runtime.lane import LaneRuntime
from controller.runtime.ports import MemoryJournal
from controller.runtime.virtual_loop import VirtualTimeLoop
from devices.transport.base import MemoryHub
from devices.transport.modbus import ModbusLinks
from emulators.base import EmulatedClock, Model, run_models
from emulators.faults import FaultKind, FaultSpec
from emulators.lane import EmulatedLane
from emulators.world import Behaviour, Incident, Phase, Truck
from simulation.camera import IdentityTally, SimCamera, identity_report
from simulation.emulation import memory_lane, spec_from_config, world_manifest
from simulation.stats import Histogram, LaneStats

SIM_EPOCH_S = 1_800_000_000.0  # 2027-01-15, any fixed origin works
END_SLACK_S = 1e-6  # the clock's rounding at the end of a run
SIM_TICK_S = 0.05  # physics at 20 Hz: a truck moves 14 cm a step, under the loops' response
MISBEHAVIOURS = (
    Behaviour.TAILGATE,
    Behaviour.HALF_ON_DECK,
    Behaviour.STOP_UNDER_ARM,
    Behaviour.REVERSE_OFF_DECK,
    Behaviour.SWAPPED_TAG,  # identity fraud: another truck's tag (simulation/camera.py)
    Behaviour.DEAD_TAG,  # a tag that never answers: identified by its plate or by hand
)
OFFICER_WALK_S = 60.0  # an officer decides a held vehicle this long after it was held
DETECTING_ALARMS = frozenset(
    {
        "tailgating",
        "lane_held",
        "deck_intrusion",
        "presence_at_closed_entry",
        "vehicle_stopped_under_entry_arm",
        "vehicle_stopped_under_exit_arm",
        "vehicle_not_fully_on_deck",
        "vehicle_reversed_off_deck",
    }
)
# incidents that a hold for another reason would not explain: only their own alarm counts
DETECTED_BY = {"reversed_off_deck": frozenset({"vehicle_reversed_off_deck"})}
DETECT_WINDOW_S = 120.0
# the approach vehicle an officer must decide: held, plate only, or no tag at all (a
# truck that waits a minute unidentified carries a dead tag and no plate read helped)
AWAITING_OFFICER = frozenset(
    {ApproachStage.MISMATCH, ApproachStage.CONFIRMING, ApproachStage.WAITING_TAG}
)
# kept per lane for a look at the end; the report folds in what it needs as it comes
# (full within the first simulated hour, so bench (e) sees a steady state after it)
KEEP_EVENTS = 500
KEEP_TRANSACTIONS = 50  # a truck leaving was committed a minute ago, not 50 vehicles ago
KEEP_GONE = 50  # departed trucks


@dataclass
class SimLane:
    lane_id: str
    emulated: EmulatedLane
    runtime: LaneRuntime
    journal: MemoryJournal
    clearance: InProcessClearance
    stats: LaneStats
    camera: SimCamera | None = None
    identity: IdentityTally = field(default_factory=IdentityTally)
    alarms: list[tuple[float, str]] = field(default_factory=list)
    faults_injected: int = 0
    resets: int = 0
    releases: int = 0

    @property
    def incidents(self) -> list[Incident]:
        return self.emulated.world.oracle.incidents


async def build_lane(
    index: int,
    seed: int,
    hub: MemoryHub,
    links: ModbusLinks,
    *,
    misbehave: float,
    stack: AsyncExitStack,
    physics: list[Model] | None = None,
    camera: bool = True,
) -> SimLane:
    config = memory_lane(f"L{index + 1:02d}")
    journal = MemoryJournal(keep_events=KEEP_EVENTS, keep_transactions=KEEP_TRANSACTIONS)
    stats = LaneStats()
    journal.on_commit.append(stats.record)
    emulated = EmulatedLane(
        spec_from_config(config),
        seed=seed + index,
        committed=committed_check(journal),
        tick_s=SIM_TICK_S,
        keep_gone=KEEP_GONE,
    )
    clearance = in_process_clearance(
        world_manifest(emulated.world),
        lanes=[config.id],
        journal=journal,
        wall_clock=_virtual_wall_clock,
        median_s=emulated.spec.clearance_median_s,
        seed=seed + index,
    )
    await stack.enter_async_context(emulated.serve(hub, physics))
    setup = await lane_setup(config, links=links, hub=hub)
    cam = None
    if camera:
        cam = SimCamera(emulated.world, f"{config.id}-entry", seed + index, SIM_EPOCH_S)
        setup = replace(setup, params=replace(setup.params, camera=CameraParams()))
    ids = (f"{config.id}-{i}" for i in itertools.count(1))
    runtime = LaneRuntime(
        setup, journal, clearance, new_id=ids.__next__, wall_clock=_virtual_wall_clock
    )
    lane = SimLane(config.id, emulated, runtime, journal, clearance, stats, cam)
    runtime.listeners.append(lambda _lane, e: _heard(lane, e))
    journal.on_commit.append(lane.identity.committed)
    return lane


async def _cancelled(task: asyncio.Task[None]) -> None:
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


def _virtual_wall_clock() -> float:
    # signed decisions carry wall-clock times; in a simulation they are virtual too
    return SIM_EPOCH_S + asyncio.get_running_loop().time()


def committed_check(journal: MemoryJournal) -> Callable[[str], bool]:
    """The oracle's S5 question: was this truck's transaction committed? A vehicle the
    controller never identified (a tailgater found on the deck) is covered by one
    officer-committed record without a tag, each such record covering one truck. The
    newest records are searched first: a truck leaving was decided minutes ago."""
    used: set[str] = set()

    def check(tag: str) -> bool:
        records = journal.transactions.values()
        if any(r.tag == tag for r in reversed(records)):
            return True
        spare = next((r for r in records if r.tag is None and r.transaction_id not in used), None)
        if spare is not None:
            used.add(spare.transaction_id)
        return spare is not None

    return check


def _heard(lane: SimLane, event: PublishEvent) -> None:
    if event.type == "alarm":
        lane.alarms.append((asyncio.get_running_loop().time(), str(event.data.get("code"))))
    core = lane.runtime.core
    deck = None if core is None or core.deck is None else core.deck.tag
    lane.identity.heard(event, deck)


async def _traffic(lane: SimLane, misbehave: float, rng: random.Random) -> None:
    world = lane.emulated.world
    while True:
        if world.queue_length < 2:
            bad = rng.random() < misbehave
            truck = world.make_truck(rng.choice(MISBEHAVIOURS) if bad else Behaviour.OBEY)
            if truck.behaviour == Behaviour.SWAPPED_TAG:
                lane.identity.swapped_tags.add(truck.tag_hex)
            lane.identity.dead_tags += truck.behaviour == Behaviour.DEAD_TAG
            world.spawn(truck)
        await asyncio.sleep(1.0)


async def officer_on_duty(lane: SimLane) -> None:
    """On duty: a held vehicle is decided a minute after it was held (rejected when the
    officer finds its tag is another truck's, released otherwise), a latched fault reset;
    a vehicle held at the approach is checked against its papers (confirmed, or refused
    when its tag is not its own); one standing unidentified is identified by hand."""
    officer = Officer(lane)
    while True:
        await asyncio.sleep(5.0)
        core = lane.runtime.core
        if core is not None:
            officer.look(core, asyncio.get_running_loop().time())


class Officer:
    """What an officer on duty decides, seeing the truth a real one finds on inspection."""

    def __init__(self, lane: SimLane) -> None:
        self.lane = lane
        self.deck_since: float | None = None
        self.approach_since: float | None = None

    def look(self, core: LaneCore, now: float) -> None:
        self._deck(core, now)
        self._approach(core, now)

    def _deck(self, core: LaneCore, now: float) -> None:
        if core.state not in (LaneState.HOLD, LaneState.FAULT):
            self.deck_since = None
            return
        self.deck_since = self.deck_since or now
        if now - self.deck_since < OFFICER_WALK_S:
            return
        if core.state == LaneState.FAULT:
            action = OperatorAction.RESET
        else:
            swapped = core.deck is not None and core.deck.tag in self.lane.identity.swapped_tags
            action = OperatorAction.REJECT if swapped else OperatorAction.RELEASE
        self._act(action, now)
        self.lane.resets += action == OperatorAction.RESET
        self.lane.releases += action == OperatorAction.RELEASE
        self.deck_since = None

    def _approach(self, core: LaneCore, now: float) -> None:
        approach = core.approach
        waiting = approach is not None and approach.stage in AWAITING_OFFICER
        if approach is None or not waiting:
            self.approach_since = None
            return
        self.approach_since = self.approach_since or now
        if now - self.approach_since < OFFICER_WALK_S:
            return
        self.approach_since = None
        truck = self._at_the_stop_line()
        if approach.stage == ApproachStage.WAITING_TAG:
            if truck is not None:  # its tag read off the papers and typed in
                self._act(OperatorAction.IDENTIFY, now, tag=truck.tag_hex)
        elif truck is not None and truck.tag_hex in self.lane.identity.swapped_tags:
            self._act(OperatorAction.REFUSE, now)
        else:
            self._act(OperatorAction.CONFIRM, now)

    def _at_the_stop_line(self) -> Truck | None:
        world = self.lane.emulated.world
        waiting = [t for t in world.trucks if t.phase in (Phase.APPROACH, Phase.AT_STOP)]
        return max(waiting, key=lambda t: t.front, default=None)

    def _act(self, action: OperatorAction, now: float, tag: str | None = None) -> None:
        self.lane.runtime.feed(
            OperatorCommanded(
                now,
                action,
                "officer.sim",
                Role.OFFICER,
                authenticated=True,
                tag=tag,
                reason="simulated officer",
            )
        )


async def _faults(lane: SimLane, per_hour: float, rng: random.Random) -> None:
    if per_hour <= 0:
        await asyncio.Event().wait()
    while True:
        await asyncio.sleep(rng.expovariate(per_hour / 3600))
        wire = rng.choice(sorted(lane.emulated.wire))
        spec = FaultSpec(kind=FaultKind.NO_REPLY, duration_s=rng.choice([0.5, 2.0, 8.0]))
        book = lane.emulated.wire[wire]
        book.inject(spec, lane.emulated.clock.now() if lane.emulated.clock else 0.0)
        lane.faults_injected += 1


def detected_by_alarm(incident: Incident, alarms: list[tuple[float, str]]) -> bool:
    """A driver's incident is detected by an alarm on its lane around its time."""
    codes = DETECTED_BY.get(incident.kind, DETECTING_ALARMS)
    return any(abs(t - incident.time) < DETECT_WINDOW_S and c in codes for t, c in alarms)


def _report(
    lanes: list[SimLane], hours: float, real_s: float, misbehave: float, faults: float
) -> dict[str, object]:
    end_s = hours * 3600
    gaps = [lane.stats.decisions.finish(end_s) for lane in lanes]  # a stall shows here
    # the lane's cycle: from one vehicle's decision to the next's
    cycles = Histogram.merged(lane.stats.decisions.cycles for lane in lanes)
    names = sorted({name for lane in lanes for name in lane.stats.stages})
    stages = {
        name: Histogram.merged(lane.stats.stages.get(name, Histogram()) for lane in lanes)
        for name in names
    }
    caused = [i for lane in lanes for i in lane.emulated.world.oracle.by("controller")]
    driver = [(lane, i) for lane in lanes for i in lane.emulated.world.oracle.by("driver")]
    detected = sum(detected_by_alarm(i, lane.alarms) for lane, i in driver)
    through = sum(lane.emulated.world.departed_count for lane in lanes)
    return {
        "lanes": len(lanes),
        "hours": hours,
        "misbehave": misbehave,
        "faults_per_lane_hour": faults,
        "vehicles_processed": through,
        "vehicles_per_hour_per_lane": through / hours / len(lanes),
        "vehicles_per_hour_gate": through / hours,
        "transactions": sum(lane.journal.transaction_count for lane in lanes),
        "cycle_s_p50": _rounded(cycles.quantile(0.5)),
        "cycle_s_p95": _rounded(cycles.quantile(0.95)),
        "stage_s_p50": {k: _rounded(v.quantile(0.5)) for k, v in stages.items()},
        "faults_injected": sum(lane.faults_injected for lane in lanes),
        "fault_resets_by_officer": sum(lane.resets for lane in lanes),
        "holds_released_by_officer": sum(lane.releases for lane in lanes),
        "driver_incidents_caused": len(driver),
        "driver_incidents_detected": detected,
        "vehicles_per_lane": [lane.emulated.world.departed_count for lane in lanes],
        "longest_gap_min_per_lane": [round(gap / 60, 1) for gap in gaps],
        "final_states": [lane.runtime.snapshot()["state"] for lane in lanes],
        "alarms_raised": sorted({code for lane in lanes for _, code in lane.alarms}),
        "alarm_counts": dict(
            Counter(code for lane in lanes for _, code in lane.alarms).most_common()
        ),
        "driver_incident_kinds": sorted({i.kind for _, i in driver}),
        **identity_report([lane.identity for lane in lanes], through),
        "camera": all(lane.camera is not None for lane in lanes),
        "controller_caused_violations": len(caused),
        "controller_caused_detail": sorted({i.kind for i in caused}),
        "speed_x_real_time": round(hours * 3600 / real_s, 1) if real_s else None,
    }


def _rounded(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds, 2)


@dataclass(frozen=True, slots=True)
class SimSpec:
    """One simulated run: `lanes` lanes for `hours`, seeded; `faults` wire faults per lane
    and hour; `misbehave` the share of trucks whose drivers break the rules."""

    lanes: int = 1
    hours: float = 1.0
    seed: int = 0
    faults: float = 0.0
    misbehave: float = 0.0
    camera: bool = True  # an entry camera on every lane, cross-checking the tags

    def __post_init__(self) -> None:
        if self.lanes < 1:
            raise ValueError(f"lanes: at least 1, not {self.lanes}")
        if self.hours <= 0:
            raise ValueError(f"hours: must be positive, not {self.hours}")
        if self.faults < 0:
            raise ValueError(f"faults: must not be negative, not {self.faults}")
        if not 0 <= self.misbehave <= 1:
            raise ValueError(f"misbehave: a share from 0 to 1, not {self.misbehave}")


async def run_simulation(
    spec: SimSpec,
    progress: Progress | None = None,
    *,
    on_minute: Callable[[float, list[SimLane]], None] | None = None,
    on_done: Callable[[list[SimLane]], None] | None = None,
) -> dict[str, object]:
    """The simulation on the running (virtual-time) loop; `on_minute` (for the memory
    benchmark) is called with the simulated seconds elapsed and the lanes after every
    simulated minute, `on_done` with the lanes once the day is over."""
    lanes_n, hours, seed, faults, misbehave = (
        spec.lanes,
        spec.hours,
        spec.seed,
        spec.faults,
        spec.misbehave,
    )
    progress = progress if progress is not None else Progress(disable=True)
    hub, links = MemoryHub(), ModbusLinks()
    physics: list[Model] = []  # every lane's models, on one ticker: one timer a step
    async with AsyncExitStack() as stack:
        lanes = [
            await build_lane(
                i,
                seed,
                hub,
                links,
                misbehave=misbehave,
                stack=stack,
                physics=physics,
                camera=spec.camera,
            )
            for i in range(lanes_n)
        ]
        ticker = asyncio.get_running_loop().create_task(
            run_models(physics, EmulatedClock(), SIM_TICK_S), name="physics"
        )
        stack.push_async_callback(_cancelled, ticker)
        loop, start_real = asyncio.get_running_loop(), time.perf_counter()
        start = loop.time()
        task = progress.add_task("simulating", total=hours * 3600, done_h=0.0)
        async with asyncio.TaskGroup() as tg:
            workers = []
            for index, lane in enumerate(lanes):
                rng = random.Random(seed * 1000 + index)  # noqa: S311 - simulation dice
                workers += [
                    tg.create_task(lane.runtime.run()),
                    tg.create_task(_traffic(lane, misbehave, rng)),
                    tg.create_task(officer_on_duty(lane)),
                    tg.create_task(_faults(lane, faults, rng)),
                ]
                if lane.camera is not None:
                    workers.append(tg.create_task(lane.camera.run(lane.runtime)))
            end = start + hours * 3600
            # to the end exactly, a minute at a time (the last maybe shorter): a loop on
            # "before the end" ran a minute too many when the clock's sum fell a hair short
            while (left := end - loop.time()) > END_SLACK_S:
                await asyncio.sleep(min(60.0, left))
                done = loop.time() - start
                progress.update(task, completed=done, done_h=done / 3600)
                if on_minute is not None:
                    on_minute(loop.time() - start, lanes)
            for worker in workers:
                worker.cancel()
        for lane in lanes:
            lane.clearance.cancel_all()
    report = _report(lanes, hours, time.perf_counter() - start_real, misbehave, faults)
    if on_done is not None:
        on_done(lanes)
    return report


def simulate(
    spec: SimSpec,
    progress: Progress | None = None,
    on_done: Callable[[list[SimLane]], None] | None = None,
) -> dict[str, object]:
    """Run `spec` on a virtual-time loop of its own; the report (see docs/performance.md)."""
    loop = VirtualTimeLoop()
    try:
        return loop.run_until_complete(run_simulation(spec, progress, on_done=on_done))
    finally:
        loop.close()
