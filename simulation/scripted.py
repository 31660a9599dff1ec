"""A scripted lane: the pure core driven by a tiny deterministic lane, in virtual time.

Theory of operation: this is the core's test bench, and what `gatectl demo --scripted`
shows (the pure core alone, step by step; `make demo` runs the emulated lane). It
executes the core's commands the way the devices would (barriers travel, lights switch,
the journal acknowledges commits, a manifest answers clearance requests after a latency)
and moves scripted trucks through the lane's sensors as drivers who obey the lights.
Everything runs on a virtual clock with a timer heap, so a vehicle takes milliseconds of
CPU. It reads no clock and does no I/O.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

from controller.core.commands import (
    CancelTimer,
    Command,
    CommitTransaction,
    MoveBarrier,
    PublishEvent,
    RequestClearance,
    SetInventory,
    SetLights,
    StartTimer,
    TransactionRecord,
    ZeroScale,
)
from controller.core.events import (
    BarrierReported,
    ClearanceDecided,
    Event,
    InputsChanged,
    PlateReported,
    TagsRead,
    TimerExpired,
    TransactionCommitted,
    WeightReported,
)
from controller.core.lane import LaneCore
from controller.core.params import LaneParams
from controller.core.timer_ids import TimerId
from controller.core.types import Aspect, BarrierState, Decision, Device, Motion, Side, Signal


@dataclass(slots=True)
class Truck:
    tag: str
    gross_kg: int
    decision: Decision = Decision.GRANT
    declared_kg: int | None = None
    plate: str | None = None  # what a lane camera reads (None: the lane has no camera)
    papers_plate: str | None = None  # the plate the manifest names for its tag (its own)
    plate_confidence: float = 0.95
    tag_answers: bool = True  # False: a dead tag, identified by its plate or by hand

    @property
    def on_file(self) -> str | None:
        return self.papers_plate or self.plate


@dataclass(slots=True)
class _Barrier:
    state: BarrierState = BarrierState.CLOSED
    position: int = 0
    stroke: int = 0  # bumps on every new stroke so stale completions are ignored


@dataclass(slots=True)
class ScriptedLane:
    params: LaneParams = field(default_factory=LaneParams)
    travel_s: float = 3.0
    clearance_s: float = 3.0
    reaction_s: float = 1.0
    log: Callable[[float, str], None] | None = None
    now: float = 0.0
    core: LaneCore = field(init=False)
    lights: tuple[Aspect, Aspect] = (Aspect.RED, Aspect.RED)
    inputs: dict[str, bool] = field(default_factory=dict)
    load_kg: float = 0.0
    rolling: bool = False  # a truck moving on the deck: the indicator flags motion
    lamp_sense_s: float = 0.05  # a red lamp's current sense follows its output this late
    dark_lamps: set[Side] = field(default_factory=set)  # blown red lamps
    inventory: bool = False
    manifest: dict[str, Truck] = field(default_factory=dict)
    committed: list[TransactionRecord] = field(default_factory=list)
    events: list[PublishEvent] = field(default_factory=list)
    commands: list[Command] = field(default_factory=list)
    _barriers: dict[Side, _Barrier] = field(default_factory=dict)
    _heap: list[tuple[float, int, Callable[[], None]]] = field(default_factory=list)
    _seq: itertools.count[int] = field(default_factory=itertools.count)
    _timers: dict[TimerId, int] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _plates: int = 0

    def __post_init__(self) -> None:
        self.core = LaneCore(self.params, new_id=lambda: f"id-{next(self._ids)}")
        self._barriers = {Side.ENTRY: _Barrier(), Side.EXIT: _Barrier()}
        self.inputs = {s.value: False for s in Signal}
        self._execute(self.core.start(self.now))
        self.feed(InputsChanged(self.now, dict(self.inputs)))
        for side in Side:
            self._report(side)
        self.feed(WeightReported(self.now, 0.0, motion=False))
        self._every(0.2, self._weigh)
        from controller.core.events import DeviceHealthChanged  # noqa: PLC0415

        self.feed(DeviceHealthChanged(self.now, Device.RFID, healthy=True))

    # ------------------------------------------------------------------ clock
    def at(self, delay: float, action: Callable[[], None]) -> None:
        heapq.heappush(self._heap, (self.now + delay, next(self._seq), action))

    def _every(self, period: float, action: Callable[[], None]) -> None:
        def tick() -> None:
            action()
            self.at(period, tick)

        self.at(period, tick)

    def run_until(self, done: Callable[[], bool], limit_s: float = 600.0) -> bool:
        end = self.now + limit_s
        while self._heap and not done():
            when, _, action = heapq.heappop(self._heap)
            if when > end:
                heapq.heappush(self._heap, (when, next(self._seq), action))
                return False
            self.now = max(self.now, when)
            action()
        return done()

    def run_for(self, seconds: float) -> None:
        end = self.now + seconds
        self.run_until(lambda: bool(self._heap) and self._heap[0][0] > end, seconds + 1)
        self.now = max(self.now, end)

    # ------------------------------------------------------------------ core I/O
    def feed(self, event: Event) -> list[Command]:
        commands = self.core.handle(event)
        self._execute(commands)
        return commands

    def _execute(self, commands: list[Command]) -> None:
        self.commands.extend(commands)
        for command in commands:
            self._do(command)

    def _do(self, command: Command) -> None:
        if isinstance(command, SetLights):
            self.lights = (command.entry, command.exit)
            if self.params.red_lamp_sensed:
                self.at(self.lamp_sense_s, self.sense_lamps)
            signs = [
                n
                for n, on in (
                    ("reposition", command.sign_reposition),
                    ("reverse", command.sign_reverse),
                )
                if on
            ]
            self._say(f"lights entry={command.entry} exit={command.exit} signs={signs or '-'}")
        elif isinstance(command, MoveBarrier):
            self._move(command)
        elif isinstance(command, StartTimer):
            token = next(self._seq)
            self._timers[command.timer_id] = token
            delay = max(0.0, command.deadline - self.now)
            self.at(delay, lambda: self._expire(command.timer_id, token, command.deadline))
        elif isinstance(command, CancelTimer):
            self._timers.pop(command.timer_id, None)
        elif isinstance(command, CommitTransaction):
            self.at(0.01, lambda: self._committed(command.record))
        elif isinstance(command, RequestClearance):
            self.at(self.clearance_s, lambda: self._decide(command))
        elif isinstance(command, SetInventory):
            self.inventory = command.active
        elif isinstance(command, ZeroScale):
            self.load_kg = 0.0
        elif isinstance(command, PublishEvent):
            self.events.append(command)
            if command.type not in ("state_changed",):
                data = " ".join(f"{k}={v}" for k, v in command.data.items())
                self._say(f"event {command.type} {data}".rstrip())
            else:
                self._say(f"state {command.data['previous']} -> {command.data['state']}")

    def _say(self, text: str) -> None:
        if self.log is not None:
            self.log(self.now, text)

    def _expire(self, timer_id: TimerId, token: int, deadline: float) -> None:
        if self._timers.get(timer_id) == token:
            del self._timers[timer_id]
            self.feed(TimerExpired(max(self.now, deadline), timer_id))

    def _committed(self, record: TransactionRecord) -> None:
        self.committed.append(record)
        self.feed(TransactionCommitted(self.now, record.transaction_id))

    def _decide(self, request: RequestClearance) -> None:
        """As the reference central does: by tag, naming the papers' plate; by plate
        alone (a dead tag), the truck with that plate on file, the plate echoed."""
        truck = self._on_file(request)
        decision = truck.decision if truck else Decision.DENY
        declared = truck.declared_kg if truck else None
        plate = request.plate if request.tag is None else (truck.on_file if truck else None)
        self.feed(ClearanceDecided(self.now, request.request_id, decision, declared, plate=plate))

    def _on_file(self, request: RequestClearance) -> Truck | None:
        if request.tag is not None:
            return self.manifest.get(request.tag)
        return next((t for t in self.manifest.values() if t.on_file == request.plate), None)

    # ------------------------------------------------------------------ devices
    def _move(self, command: MoveBarrier) -> None:
        self._say(f"barrier {command.side} {command.motion} ({command.reason})")
        barrier = self._barriers[command.side]
        barrier.stroke += 1
        if command.motion == Motion.STOP:
            barrier.state = BarrierState.STOPPED
        elif command.motion == Motion.OPEN and barrier.state != BarrierState.OPEN:
            barrier.state = BarrierState.OPENING
            self._finish_stroke(command.side, barrier.stroke, BarrierState.OPEN, 100)
        elif command.motion == Motion.CLOSE and barrier.state != BarrierState.CLOSED:
            barrier.state = BarrierState.CLOSING
            self._finish_stroke(command.side, barrier.stroke, BarrierState.CLOSED, 0)
        self.at(0.05, lambda: self._report(command.side))

    def _finish_stroke(self, side: Side, stroke: int, state: BarrierState, pos: int) -> None:
        def done() -> None:
            barrier = self._barriers[side]
            if barrier.stroke == stroke:
                barrier.state, barrier.position = state, pos
                self._report(side)

        self.at(self.travel_s, done)

    def _report(self, side: Side) -> None:
        b = self._barriers[side]
        self.feed(BarrierReported(self.now, side, b.state, b.position))

    def set_inputs(self, **signals: bool) -> None:
        self.inputs.update(signals)
        self.feed(InputsChanged(self.now, signals))

    def sense_lamps(self) -> None:
        """The red lamps' current sense (wired when the core's params say so): on while
        the red aspect is lit and the lamp is not blown."""
        lit = {side: a == Aspect.RED for side, a in zip(Side, self.lights, strict=True)}
        sensed = {f"{s.value}_red_ok": lit[s] and s not in self.dark_lamps for s in Side}
        if any(self.inputs[name] != on for name, on in sensed.items()):
            self.set_inputs(**sensed)

    def _weigh(self) -> None:
        self.feed(WeightReported(self.now, self.load_kg, motion=self.rolling, raw=b"scripted"))

    # ------------------------------------------------------------------ trucks
    def arrive(self, truck: Truck, *, tags: tuple[str, ...] | None = None) -> None:
        """A truck pulls up to the stop line; its tag(s) are read once inventory wakes."""
        self.manifest.setdefault(truck.tag, truck)
        self.set_inputs(approach_loop=True)
        if truck.tag_answers:
            self.at(0.3, lambda: self._read_tags(tags or (truck.tag,)))
        if truck.plate is not None:
            self.at(0.1, lambda: self.read_plate(truck.plate or "", truck.plate_confidence))

    def read_plate(self, plate: str, confidence: float, side: Side = Side.ENTRY) -> None:
        """The lane camera at `side` reports a read (its snapshot stands for itself)."""
        self._plates += 1
        event_id = f"cam-{self._plates:06d}"
        sha = f"{self._plates:064x}"
        self.feed(PlateReported(self.now, side, "cam", event_id, plate, "VN", confidence, sha))

    def _read_tags(self, tags: tuple[str, ...]) -> None:
        if self.inventory:
            self.feed(TagsRead(self.now, tags))

    def drive_onto_deck(self, truck: Truck) -> None:
        """The driver sees green and drives on: across the entry arm, onto the deck. The
        truck rolls while it crosses beam_in (the indicator flags motion, as a real one
        does while the load changes) and stops once it is fully on the deck: a script
        that stood still over the beam was a truck stopped half on, and was alarmed."""
        steps: list[tuple[float, Callable[[], None]]] = [
            (0.0, lambda: self.set_inputs(approach_loop=False, entry_arm_loop=True)),
            (1.5, lambda: self.set_inputs(entry_arm_loop=False, beam_in=True)),
            (0.0, lambda: setattr(self, "rolling", True)),
            (0.0, lambda: setattr(self, "load_kg", truck.gross_kg * 0.6)),
            (2.0, lambda: self.set_inputs(beam_in=False)),
            (0.0, lambda: setattr(self, "load_kg", float(truck.gross_kg))),
            (0.0, lambda: setattr(self, "rolling", False)),
        ]
        self._chain(steps)

    def drive_off(self) -> None:
        steps: list[tuple[float, Callable[[], None]]] = [
            (0.0, lambda: self.set_inputs(beam_out=True, exit_arm_loop=True)),
            (0.0, lambda: setattr(self, "load_kg", self.load_kg * 0.5)),
            (2.0, lambda: self.set_inputs(beam_out=False)),
            (0.0, lambda: setattr(self, "load_kg", 0.0)),
            (1.5, lambda: self.set_inputs(exit_arm_loop=False)),
        ]
        self._chain(steps)

    def _chain(self, steps: list[tuple[float, Callable[[], None]]]) -> None:
        delay = 0.0
        for pause, step in steps:
            delay += pause
            self.at(delay, step)

    def process(self, truck: Truck, limit_s: float = 120.0) -> bool:
        """One obedient truck end to end; True when it left through the exit."""
        self.arrive(truck)
        if not self.run_until(lambda: self.lights[0] == Aspect.GREEN, limit_s):
            return False
        self.run_for(self.reaction_s)
        self.drive_onto_deck(truck)
        if not self.run_until(lambda: self.lights[1] == Aspect.GREEN, limit_s):
            return False
        self.run_for(self.reaction_s)
        self.drive_off()
        return self.run_until(lambda: self.core.state.value in ("idle", "closed"), limit_s)
