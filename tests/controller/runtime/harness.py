"""An emulated lane in one event loop: models, the world, in-memory links, the runtime.

The I/O module and the barriers go through the real drivers and the in-memory Modbus
transport to their emulators; the scale and the RFID reader are stood in by small ports
that read the same world (their wire paths have their own conformance tests).
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

from controller.core.params import LaneParams
from controller.core.types import Decision, Side
from controller.runtime.lane import LaneRuntime
from controller.runtime.ports import DecisionSink, MemoryJournal, VerifiedDecision
from controller.runtime.setup import LaneSetup, Wiring
from devices.barrier.driver import BarrierDriver
from devices.io.driver import IoDriver
from devices.transport.base import MemoryHub
from devices.transport.memory import MemoryModbusLink
from emulators.barrier.interface import BarrierBusInterface
from emulators.barrier.model import BarrierModel
from emulators.base import EmulatedClock, Model, run_models
from emulators.io.interface import IoInterface
from emulators.io.model import IoModel, lamp_senses
from emulators.memory import serve_modbus_memory
from emulators.panel import ModelPanel
from emulators.world import World
from simulation.emulation import MEMORY_INPUTS, MEMORY_OUTPUTS

INPUTS, OUTPUTS = MEMORY_INPUTS, MEMORY_OUTPUTS


@dataclass(slots=True)
class Reading:
    weight_kg: float
    motion: bool = False
    out_of_range: bool = False
    raw: bytes = b""


@dataclass(slots=True)
class LoadScale:
    """A scale stand-in: the deck load, settled, as the indicator's ~10 Hz stream."""

    load: float = 0.0
    offset: float = 0.0

    def set_load_kg(self, kg: float) -> None:
        self.load = kg

    async def read_reading(self, timeout_s: float) -> Reading:
        await asyncio.sleep(0.1)
        return Reading(round(self.load + self.offset), raw=b"stand-in")

    async def zero(self) -> None:
        self.offset = -self.load


@dataclass(slots=True)
class FieldReader:
    tags: dict[bytes, float] = field(default_factory=dict)

    def set_tag(self, epc: bytes, distance_m: float | None) -> None:
        if distance_m is None:
            self.tags.pop(epc, None)
        else:
            self.tags[epc] = distance_m

    async def inventory(self) -> tuple[bytes, ...]:
        await asyncio.sleep(0.02)
        return tuple(sorted(self.tags))


@dataclass(slots=True)
class Manifest:
    """In-process clearance: every known tag granted after a latency."""

    latency_s: float = 0.5
    decisions: dict[str, Decision] = field(default_factory=dict)
    tasks: set[asyncio.Task[None]] = field(default_factory=set)

    def request(
        self,
        lane: str,
        request_id: str,
        tag: str | None,
        deliver: DecisionSink,
        plate: str | None = None,
    ) -> None:
        key = tag if tag is not None else plate or ""

        async def answer() -> None:
            await asyncio.sleep(self.latency_s)
            deliver(VerifiedDecision(request_id, self.decisions.get(key, Decision.GRANT)))

        task = asyncio.get_running_loop().create_task(answer())
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)


class Stepped:
    """Wakes waiters after every runtime step, so tests wait on conditions, not sleeps."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self, _runtime: object) -> None:
        self._event.set()

    async def wait_until(self, condition: Callable[[], bool]) -> None:
        while not condition():
            self._event.clear()
            await self._event.wait()


# red-lamp supervision, when a test wires it: each sense reads its red lamp's current
LAMP_SENSE = {"entry_red_ok": 6, "exit_red_ok": 7}


class EmulatedLane:
    def __init__(
        self, params: LaneParams | None = None, seed: int = 1, *, lamp_sense: bool = False
    ) -> None:
        self.hub = MemoryHub()
        self.inputs = INPUTS | LAMP_SENSE if lamp_sense else INPUTS
        self.io_model = IoModel(safe_pattern=0b101, lamp_sense=lamp_senses(self.inputs, OUTPUTS))
        self.barriers = {"entry": BarrierModel(unit=1), "exit": BarrierModel(unit=2)}
        self.scale, self.rfid = LoadScale(), FieldReader()
        self.journal = MemoryJournal()
        self.manifest = Manifest()
        panel = ModelPanel(
            self.io_model,
            inputs=self.inputs,
            outputs=OUTPUTS,
            barriers=self.barriers,
            scale=self.scale,
            rfid=self.rfid,
        )
        self.world = World(panel, seed=seed, committed=self._committed)
        serve_modbus_memory(self.hub, "io", IoInterface(self.io_model))
        bus = BarrierBusInterface({1: self.barriers["entry"], 2: self.barriers["exit"]})
        serve_modbus_memory(self.hub, "rs485", bus)
        ids = (f"id-{i}" for i in itertools.count(1))
        self.stepped = Stepped()
        self.runtime = LaneRuntime(
            self._setup(params or LaneParams(red_lamp_sensed=lamp_sense)),
            self.journal,
            self.manifest,
            new_id=ids.__next__,
            on_change=self.stepped.notify,
        )

    def _setup(self, params: LaneParams) -> LaneSetup:
        io = MemoryModbusLink(self.hub, "io").unit(1)
        bus = MemoryModbusLink(self.hub, "rs485")
        return LaneSetup(
            lane_id=params.lane_id,
            params=params,
            wiring=Wiring(dict(self.inputs), OUTPUTS),
            io=IoDriver(io),
            barriers={
                Side.ENTRY: BarrierDriver(bus.unit(1), "entry"),
                Side.EXIT: BarrierDriver(bus.unit(2), "exit"),
            },
            scale=self.scale,
            rfid=self.rfid,
        )

    def _committed(self, tag: str) -> bool:
        return any(r.tag == tag for r in self.journal.transactions.values())

    async def run(self) -> None:
        clock = EmulatedClock()
        models: list[Model] = [self.world, self.io_model, *self.barriers.values()]
        async with asyncio.TaskGroup() as tg:
            tg.create_task(run_models(models, clock, period_s=0.02), name="world")
            tg.create_task(self.runtime.run(), name="runtime")
