"""One lane at run time: the pure core wrapped in asyncio.

Theory of operation: `run()` restores the lane's journaled context and latched fault,
then runs one TaskGroup with a named task per device loop (loops.py), the freshness check
(S7), and the journal writer, which after each write asks the journal whether it still
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
from controller.core.types import Device, LaneState, Side
from controller.errors import DeviceError, GateError
from controller.runtime.health import Freshness
from controller.runtime.loops import BarrierLoop, IoLoop, RfidLoop, ScaleLoop
from controller.runtime.ports import ClearancePort, JournalPort, VerifiedDecision
from controller.runtime.setup import LaneSetup
from controller.runtime.timers import TimerService

log = logging.getLogger(__name__)
T = TypeVar("T")
JournalOp = Callable[[], Awaitable[None]]
# Closed admissions reopen when retention frees room, which journals nothing: look again.
ADMISSION_RECHECK_S = 5.0
JOURNAL_DRAIN_S = 5.0  # a clean stop waits this long at most for the journal's backlog


class LaneRuntime:
    def __init__(
        self,
        setup: LaneSetup,
        journal: JournalPort,
        clearance: ClearancePort,
        *,
        new_id: Callable[[], str] | None = None,
        on_change: Callable[[LaneRuntime], None] | None = None,
    ) -> None:
        self.setup = setup
        self.journal = journal
        self.clearance = clearance
        self.new_id = new_id
        self.on_change = on_change
        self.freshness = Freshness(setup.fresh_s)
        self.alarms: dict[str, str] = {}
        self.io_reported = False
        self.core: LaneCore | None = None
        self._journal_queue: asyncio.Queue[JournalOp] = asyncio.Queue()
        self._admissions_open = True  # what the core was last told (it starts open)
        self.steps = 0
        self.listeners: list[Callable[[str, PublishEvent], None]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self.booted = asyncio.Event()  # in its safe state after boot (READY=1, service.py)
        self.on_exchange: Callable[[Device, float], None] | None = None  # latency (metrics)

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
        kwargs = {} if self.new_id is None else {"new_id": self.new_id}
        self.core = LaneCore(self.setup.params, deck=context, latched_fault=fault, **kwargs)  # type: ignore[arg-type]
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
                tg.create_task(self._check_freshness(), name=f"{lane}:freshness")
                tg.create_task(self._write_journal(), name=f"{lane}:journal")
        finally:
            self.timers.cancel_all()

    def _timer_expired(self, timer_id: str, at: float) -> None:
        self.feed(TimerExpired(at, timer_id))

    async def exchange(self, device: Device, call: Awaitable[T]) -> T | None:
        """One device exchange; a good one refreshes the device, a failure is recorded."""
        started = 0.0 if self.on_exchange is None else self.now()
        try:
            result = await call
        except DeviceError as error:
            self.freshness.failed(device, str(error))
            return None
        if self.on_exchange is not None:
            self.on_exchange(device, self.now() - started)
        if self.freshness.ok(device, self.now()):
            self.feed(DeviceHealthChanged(self.now(), device, healthy=True))
        return result

    async def _check_freshness(self) -> None:
        loop, freshness = asyncio.get_running_loop(), self.freshness
        while True:
            await asyncio.sleep(freshness.next_check(loop.time()) - loop.time())
            for device, reason in self.freshness.stale(self.now()):
                self.feed(DeviceHealthChanged(self.now(), device, healthy=False, reason=reason))

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
                self.alarms["monitor"] = str(violation)
                self._execute(core.handle(InvariantViolated(event.now, *_split(violation))))
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
            self.barriers[command.side].command("disable_auto_close")
        elif isinstance(command, StartTimer):
            self.timers.start(command.timer_id, command.deadline)
        elif isinstance(command, CancelTimer):
            self.timers.cancel(command.timer_id)
        elif isinstance(command, ZeroScale):
            self.scale.zero()
        elif isinstance(command, SetInventory):
            self.rfid.set_active(command.active)
        elif isinstance(command, RequestClearance):
            self.clearance.request(lane, command.request_id, command.tag, self._decided)
        elif isinstance(command, CommitTransaction):
            self._journal(lambda: self._commit(command))
        elif isinstance(command, SaveContext):
            self._journal(lambda: self.journal.save_context(lane, command.context))
        elif isinstance(command, PersistFault):
            self._journal(lambda: self.journal.persist_fault(lane, command.reason))
        elif isinstance(command, PublishEvent):
            self._journal(lambda: self.journal.append_event(lane, command.type, command.data))
            for listener in self.listeners:
                listener(lane, command)
        elif isinstance(command, RaiseAlarm):
            self.alarms[command.code] = command.message
        elif isinstance(command, ClearAlarm):
            self.alarms.pop(command.code, None)

    def output_mismatch(self, shown: tuple[bool, ...], wanted: tuple[bool, ...] | None) -> None:
        """S8: the I/O module does not confirm the commanded outputs."""
        message = f"I/O outputs {_bits(shown)} do not confirm the commanded {_bits(wanted)}"
        self.feed(InvariantViolated(self.now(), "S8", message))

    def snapshot(self) -> dict[str, object]:
        """The lane as an operator sees it (status, monitor, the MQTT state topic)."""
        core = self.core
        if core is None:
            return {"lane": self.setup.lane_id, "state": "starting"}
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
            "approach": None if core.approach is None else core.approach.stage.value,
            "latched_fault": core.latched_fault,
            "alarms": dict(self.alarms),
            "devices": self.freshness.snapshot(),
        }

    def _decided(self, decision: VerifiedDecision) -> None:
        self.feed(
            ClearanceDecided(
                self.now(),
                decision.request_id,
                decision.decision,
                decision.declared_gross_kg,
                decision.tolerance_kg,
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
        except (GateError, OSError) as error:
            # a record the journal cannot keep must not pass silently: fail closed
            log.exception("lane %s: journal write failed", self.setup.lane_id)
            self.alarms["journal"] = str(error)
            self.feed(InvariantViolated(self.now(), "S10", f"journal write failed: {error}"))

    async def _check_admission(self) -> None:
        """Tell the core when the journal's headroom for new vehicles changes; a journal
        that cannot say is taken as full (fail closed)."""
        reason = "journal past its admission limit: no vehicle admitted until it is pruned"
        try:
            is_open = await self.journal.admission_open()
        except (GateError, OSError) as error:
            is_open, reason = False, f"journal headroom unknown: {error}"
        if is_open != self._admissions_open:
            self._admissions_open = is_open
            self.feed(AdmissionCapacityChanged(self.now(), is_open, "" if is_open else reason))

    async def _commit(self, command: CommitTransaction) -> None:
        tid = command.record.transaction_id
        try:
            await self.journal.commit_transaction(command.record)
        except (GateError, OSError, ValueError) as error:
            self.feed(TransactionCommitFailed(self.now(), tid, str(error)))
            return
        self.feed(TransactionCommitted(self.now(), tid))


def _bits(bits: tuple[bool, ...] | None) -> str:
    return "-" if bits is None else "".join("1" if b else "0" for b in bits)


def _split(violation: object) -> tuple[str, str]:
    invariant, _, message = str(violation).partition(": ")
    return invariant, message
