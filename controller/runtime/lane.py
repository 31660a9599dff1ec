"""One lane at run time: the pure core wrapped in asyncio.

Theory of operation: `run()` restores the lane's journaled context and latched fault,
then runs one TaskGroup with a named task per device loop (loops.py) and per camera
(camera.py: plate reads, their snapshots stored), the freshness check (S7), and the
journal writer, which after each write asks the journal whether it still
has headroom to admit vehicles and tells the core when that changes. Every report
becomes an event for the core (`feed`), which answers with vetted commands; `_execute`
hands each to its device loop, the timer service, the journal queue or the clearance
port, without awaiting, so the core's step never waits on I/O. After every step the
runtime monitors (invariants.check_lane) run on the core; a trip faults the lane and
raises an alarm.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from controller.core.commands import (
    CancelTimer,
    ClearAlarm,
    Command,
    CommitTransaction,
    DisableAutoClose,
    MoveBarrier,
    PersistFault,
    PersistMode,
    PublishEvent,
    RaiseAlarm,
    RequestClearance,
    SaveContext,
    SetInventory,
    SetLights,
    StartTimer,
    ZeroScale,
)
from controller.core.events import (
    AdmissionCapacityChanged,
    ClearanceDecided,
    DeviceHealthChanged,
    Event,
    InvariantViolated,
    TimerExpired,
    TransactionCommitFailed,
    TransactionCommitted,
)
from controller.core.invariants import check_lane
from controller.core.lane import LaneCore
from controller.core.timer_ids import TimerId
from controller.core.types import Device, LaneState, Side
from controller.core.vehicles import ApproachVehicle, DeckVehicle
from controller.errors import DeviceError, GateError
from controller.runtime.alarm_view import alarm_view
from controller.runtime.camera import CameraLoop, SnapshotPort
from controller.runtime.device_links import DeviceLinks
from controller.runtime.health import Freshness
from controller.runtime.loops import BarrierLoop, IoLoop, RfidLoop, ScaleLoop
from controller.runtime.ports import ClearancePort, JournaledEvent, JournalPort, VerifiedDecision
from controller.runtime.setup import LaneSetup
from controller.runtime.timers import TimerService
from controller.runtime.wallclock import WallClock

log = logging.getLogger(__name__)
T = TypeVar("T")
JournalOp = Callable[[], Awaitable[None]]
# Closed admissions reopen when retention frees room, which journals nothing: look again.
ADMISSION_RECHECK_S = 5.0
JOURNAL_DRAIN_S = 5.0  # a clean stop waits this long at most for the journal's backlog
# the runtime's own alarms that fault the lane: they clear with its reset (lane_fault)
FAULT_CAUSES = ("monitor", "journal")


class LaneRuntime:
    def __init__(
        self,
        setup: LaneSetup,
        journal: JournalPort,
        clearance: ClearancePort,
        *,
        new_id: Callable[[], str] | None = None,
        on_change: Callable[[LaneRuntime], None] | None = None,
        wall_clock: Callable[[], float] = time.time,  # the injected wall clock
        log_devices: bool = False,
        snapshots: SnapshotPort | None = None,  # None: reads fed, snapshots not kept
    ) -> None:
        self.setup = setup
        self.journal = journal
        self.clearance = clearance
        self.new_id = new_id
        self.on_change = on_change
        self.freshness = Freshness(setup.fresh_s)
        self.links = DeviceLinks(setup.lane_id, setup.endpoints, logged=log_devices)
        self.alarms: dict[str, str] = {}
        self.alarm_since: dict[str, float] = {}  # wall-clock seconds each was raised
        self.wall_clock = wall_clock
        self.io_reported = False
        self.core: LaneCore | None = None
        self._journal_queue: asyncio.Queue[JournalOp] = asyncio.Queue()
        self._admissions_open = True  # what the core was last told (it starts open)
        self.steps = 0
        self.listeners: list[Callable[[str, PublishEvent], None]] = []
        # hear each event once journaled, with the seq, event_id and ts it was given
        self.journaled: list[Callable[[str, PublishEvent, JournaledEvent], None]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self.wall = WallClock(wall_clock, self.now)
        self.booted = asyncio.Event()  # in its safe state after boot (READY=1, service.py)
        self.on_exchange: Callable[[Device, float], None] | None = None  # latency (metrics)
        self.cameras = {
            side: CameraLoop(setup.lane_id, self, side, driver, snapshots)
            for side, driver in setup.cameras.items()
        }

    def now(self) -> float:
        # the loop is looked up once: now() runs a few times on every exchange
        loop = self._loop
        if loop is None:
            loop = self._loop = asyncio.get_running_loop()
        return loop.time()

    # ------------------------------------------------------------------ lifecycle
    async def run(self) -> None:
        lane = self.setup.lane_id
        context = await self.journal.load_context(lane)
        fault = await self.journal.load_fault(lane)
        mode = await self.journal.load_mode(lane)
        self.core = LaneCore(
            self.setup.params, deck=context, latched_fault=fault, mode=mode, new_id=self.new_id
        )
        self.timers = TimerService(self._timer_expired)
        self.io = IoLoop(self)
        self.barriers = {side: BarrierLoop(self, side) for side in self.setup.sides}
        self.scale, self.rfid = ScaleLoop(self), RfidLoop(self)
        self._execute(self.core.start(self.now()))
        try:
            async with asyncio.TaskGroup() as tg:
                tg.create_task(self.io.run(), name=f"{lane}:io")
                for side, barrier in self.barriers.items():
                    tg.create_task(barrier.run(), name=f"{lane}:{side}_barrier")
                tg.create_task(self.scale.run(), name=f"{lane}:scale")
                tg.create_task(self.rfid.run(), name=f"{lane}:rfid")
                for side, camera in self.cameras.items():
                    tg.create_task(camera.run(), name=f"{lane}:{side}_camera")
                tg.create_task(self._check_freshness(), name=f"{lane}:freshness")
                tg.create_task(self._write_journal(), name=f"{lane}:journal")
        finally:
            self.timers.cancel_all()

    def _timer_expired(self, timer_id: TimerId, at: float) -> None:
        self.feed(TimerExpired(at, timer_id))

    async def exchange(self, device: Device, call: Awaitable[T]) -> T | None:
        """One device exchange; a good one refreshes the device, a failure is recorded."""
        started = 0.0 if self.on_exchange is None else self.now()
        try:
            result = await call
        except DeviceError as error:
            self.device_failed(device, str(error))
            return None
        now = self.now()
        if self.on_exchange is not None:
            self.on_exchange(device, now - started)
        self.links.ok(device, now)
        if self.freshness.ok(device, now):
            self.feed(DeviceHealthChanged(now, device, healthy=True))
        return result

    def device_failed(self, device: Device, error: str) -> None:
        self.freshness.failed(device, error)
        self.links.failed(device, error, self.now())

    async def _check_freshness(self) -> None:
        loop, freshness = asyncio.get_running_loop(), self.freshness
        while True:
            await asyncio.sleep(freshness.next_check(loop.time()) - loop.time())
            for device, reason in self.freshness.stale(self.now()):
                self.links.lost(device, reason, self.now())
                self.feed(DeviceHealthChanged(self.now(), device, healthy=False, reason=reason))
                ran_out = self.freshness.ran_out_at(device)
                if device != Device.IO and ran_out is not None:  # a lost I/O module's own
                    self.io.expect_safe_by(ran_out + self.setup.safe_s)  # watchdog goes red

    def safe_reaction(self, late_s: float) -> None:
        """S7's deadline (`timing.safe_ms`) met (late_s <= 0) or missed by late_s."""
        if late_s <= 0:
            self.alarms.pop("s7_deadline_missed", None)
            return
        message = f"lights reached red {late_s * 1000:.0f} ms after the S7 deadline (safe_ms)"
        log.warning("lane %s: %s", self.setup.lane_id, message)
        self.alarms["s7_deadline_missed"] = message

    # ------------------------------------------------------------------ the core
    def feed(self, event: Event) -> list[Command]:
        core = self.core
        if core is None:
            return []
        commands = core.handle(event)
        self.steps += 1
        self._execute(commands)
        if core.state != LaneState.FAULT:
            for violation in check_lane(core, event.now):
                self.raise_alarm("monitor", str(violation))
                violated = InvariantViolated(event.now, violation.invariant, violation.message)
                self._execute(core.handle(violated))
                break
        if self.on_change is not None:
            self.on_change(self)
        self.note_booted()
        return commands

    def note_booted(self) -> None:
        """Boot ends once the core left BOOTING with its lights on the wire, or faulted
        (then the I/O module's own watchdog holds the reds if we cannot write them)."""
        core = self.core
        if self.booted.is_set() or core is None or core.state == LaneState.BOOTING:
            return
        if core.state == LaneState.FAULT or self.io.written == self.io.wanted:
            self.booted.set()

    def _execute(self, commands: list[Command]) -> None:
        for command in commands:
            self._one(command)

    def _one(self, command: Command) -> None:  # noqa: PLR0912 - one arm per command type
        lane = self.setup.lane_id
        if isinstance(command, SetLights):
            self.io.set_lights(
                command.entry, command.exit, command.sign_reposition, command.sign_reverse
            )
        elif isinstance(command, MoveBarrier):
            self.barriers[command.side].command(command.motion)
        elif isinstance(command, DisableAutoClose):
            self.barriers[command.side].command(command)
        elif isinstance(command, StartTimer):
            self.timers.start(command.timer_id, command.deadline)
        elif isinstance(command, CancelTimer):
            self.timers.cancel(command.timer_id)
        elif isinstance(command, ZeroScale):
            self.scale.zero()
        elif isinstance(command, SetInventory):
            self.rfid.set_active(command.active)
        elif isinstance(command, RequestClearance):
            self.clearance.request(
                lane, command.request_id, command.tag, self._decided, plate=command.plate
            )
        elif isinstance(command, CommitTransaction):
            self._journal(lambda: self._commit(command))
        elif isinstance(command, SaveContext):
            self._journal(lambda: self.journal.save_context(lane, command.context))
        elif isinstance(command, PersistFault):
            self._journal(lambda: self.journal.persist_fault(lane, command.reason))
        elif isinstance(command, PersistMode):
            self._journal(lambda: self.journal.persist_mode(lane, command.mode))
        elif isinstance(command, PublishEvent):
            self._journal(lambda: self._append_event(command))
            for listener in self.listeners:
                listener(lane, command)
        elif isinstance(command, RaiseAlarm):
            self.raise_alarm(command.code, command.message)
        elif isinstance(command, ClearAlarm):
            self.clear_alarm(command.code)

    def raise_alarm(self, code: str, text: str) -> None:
        self.alarms[code] = text
        self.alarm_since[code] = self.wall_clock()

    def clear_alarm(self, code: str) -> None:
        self.alarms.pop(code, None)
        self.alarm_since.pop(code, None)
        if code == "lane_fault":  # what latched it is over with it (reset)
            for cause in FAULT_CAUSES:
                self.clear_alarm(cause)

    def alarm_view(self) -> dict[str, dict[str, object]]:
        standing = {} if self.core is None else self.core.standing
        return alarm_view(self.alarms, self.alarm_since, standing)

    def raise_gateway_alarm(self, code: str, message: str) -> None:
        """An alarm from outside the core (the gateway's clock and replay health): in
        status at once, journaled and followed as an `alarm` event when it is new."""
        new = code not in self.alarms
        self.raise_alarm(code, message)
        if new:
            self._one(PublishEvent("alarm", {"code": code, "message": message}))

    def clear_gateway_alarm(self, code: str) -> None:
        if code in self.alarms:
            self.clear_alarm(code)
            self._one(PublishEvent("alarm_cleared", {"code": code}))

    def output_mismatch(self, shown: tuple[bool, ...], wanted: tuple[bool, ...] | None) -> None:
        """S8: the I/O module does not confirm the commanded outputs."""
        message = f"I/O outputs {_bits(shown)} do not confirm the commanded {_bits(wanted)}"
        self.feed(InvariantViolated(self.now(), "S8", message))

    def snapshot(self) -> dict[str, object]:
        """The lane as an operator sees it (status, monitor, the MQTT state topic)."""
        core = self.core
        if core is None:
            # alarms raised from outside the core (replays, clock) show while it boots
            return {"lane": self.setup.lane_id, "state": "starting", "alarms": dict(self.alarms)}
        image, deck = core.image, core.deck
        return {
            "lane": self.setup.lane_id,
            "state": core.state.value,
            "lights": {"entry": core.lights[0].value, "exit": core.lights[1].value},
            "barriers": {s.value: image.barrier_state(s).name.lower() for s in Side},
            "deck_kg": image.weight_kg,
            "deck_vehicle": None if deck is None else deck.tag,
            "deck_transaction": None if deck is None else deck.transaction_id,
            "hold_reason": "" if deck is None else deck.hold_reason,
            **_evidence(deck),
            **_approach(core.approach),
            "latched_fault": core.latched_fault,
            "mode": core.mode.value,
            "pending_mode": None if core.pending_mode is None else core.pending_mode.value,
            "alarms": self.alarm_view(),
            "devices": self._devices(),
            "cameras": {c.driver.camera_id: c.status() for c in self.cameras.values()},
        }

    def _devices(self) -> dict[str, dict[str, object]]:
        devices = self.freshness.snapshot()
        for status in devices.values():  # additive: the wall time beside the monotonic one
            last_ok = status["last_ok"]
            status["last_ok_at"] = self.wall.at(last_ok) if isinstance(last_ok, float) else None
        return devices

    def _decided(self, decision: VerifiedDecision) -> None:
        self.feed(
            ClearanceDecided(
                self.now(),
                decision.request_id,
                decision.decision,
                decision.declared_gross_kg,
                decision.tolerance_kg,
                decision.plate,
            )
        )

    # ------------------------------------------------------------------ journal
    def _journal(self, op: JournalOp) -> None:
        self._journal_queue.put_nowait(op)

    async def _write_journal(self) -> None:
        """Journal operations in the order the core issued them (S10's order); the
        journal's headroom checked at start and after each."""
        try:
            while True:
                await self._check_admission()
                op = await self._next_journal_op()
                if op is not None:
                    await self._write_one(op)
        except asyncio.CancelledError:
            await self._drain_journal()
            raise

    async def _drain_journal(self) -> None:
        """On a clean stop, write what the core already issued (a reset's cleared fault,
        a context) before going: a stop must not undo what the lane has decided."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(JOURNAL_DRAIN_S):
                while not self._journal_queue.empty():
                    await self._write_one(self._journal_queue.get_nowait())

    async def _next_journal_op(self) -> JournalOp | None:
        """The next operation; None after ADMISSION_RECHECK_S idle while admissions are
        closed (only a write can close them, but only pruning reopens them)."""
        try:
            async with asyncio.timeout(None if self._admissions_open else ADMISSION_RECHECK_S):
                return await self._journal_queue.get()
        except TimeoutError:
            return None

    async def _write_one(self, op: JournalOp) -> None:
        try:
            await op()
        except GateError as error:
            # a record the journal cannot keep must not pass silently: fail closed
            lane = self.setup.lane_id
            extra: dict[str, object] = {"lane": lane, "event": "journal_write_failed"}
            log.exception("lane %s: journal write failed", lane, extra=extra)
            self.raise_alarm("journal", str(error))
            self.feed(InvariantViolated(self.now(), "S10", f"journal write failed: {error}"))

    async def _check_admission(self) -> None:
        """Tell the core when the journal's headroom for new vehicles changes; a journal
        that cannot say is taken as full (fail closed)."""
        reason = "journal past its admission limit: no vehicle admitted until it is pruned"
        try:
            is_open = await self.journal.admission_open()
        except GateError as error:
            is_open, reason = False, f"journal headroom unknown: {error}"
        if is_open != self._admissions_open:
            self._admissions_open = is_open
            self.feed(AdmissionCapacityChanged(self.now(), is_open, "" if is_open else reason))

    async def _append_event(self, event: PublishEvent) -> None:
        written = await self.journal.append_event(self.setup.lane_id, event.type, event.data)
        for listener in self.journaled:
            listener(self.setup.lane_id, event, written)

    async def _commit(self, command: CommitTransaction) -> None:
        tid = command.record.transaction_id
        try:
            await self.journal.commit_transaction(command.record)
        except GateError as error:
            self.feed(TransactionCommitFailed(self.now(), tid, str(error)))
            return
        self.feed(TransactionCommitted(self.now(), tid))


def _evidence(deck: DeckVehicle | None) -> dict[str, object]:
    """What an officer deciding on the deck vehicle looks at (the console's queue); the
    stage times are loop seconds, aged against the status's `monotonic_s`."""
    if deck is None:
        empty: dict[str, object] = {"deck_times": {}}
        return empty | dict.fromkeys(("deck_gross_kg", "deck_declared_kg", "deck_decision"))
    return {
        "deck_gross_kg": deck.gross_kg,
        "deck_declared_kg": deck.declared_gross_kg,
        "deck_decision": None if deck.decision is None else deck.decision.value,
        "deck_times": dict(deck.times),
    }


def _approach(approach: ApproachVehicle | None) -> dict[str, object]:
    """The approach vehicle, flat as status has always carried it (`approach`: its stage),
    with what an officer checks before `confirm` or `refuse`: the best plate read, its
    confidence and snapshot, the plate on file for the tag, the outstanding request."""
    if approach is None:
        return {"approach": None, "approach_tag": None}
    best = approach.best_read()
    return {
        "approach": approach.stage.value,
        "approach_tag": approach.tag,
        "approach_plate": None if best is None else best.plate,
        "approach_plate_confidence": None if best is None else best.confidence,
        "approach_snapshot_sha256": None if best is None else best.snapshot_sha256,
        "approach_expected_plate": approach.expected_plate,
        "approach_request_id": approach.request_id,
    }


def _bits(bits: tuple[bool, ...] | None) -> str:
    return "-" if bits is None else "".join("1" if b else "0" for b in bits)
