"""What the lane runtime needs from the rest of the gateway, as small interfaces.

The runtime is written against these ports, so a lane runs the same against the SQLite
journal and MQTT bridge in production, and against the in-memory versions here in tests,
the demo and simulations.
"""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from controller.core.commands import Command, DeckContext, TransactionRecord
from controller.core.events import Event
from controller.core.types import Decision, Device, Mode
from controller.runtime.health import Freshness
from controller.runtime.setup import LaneSetup

T = TypeVar("T")


class LaneHost(Protocol):
    """What a device loop (loops.py) needs of its lane: the runtime (lane.py) is one."""

    setup: LaneSetup
    freshness: Freshness
    io_reported: bool

    def now(self) -> float: ...
    def feed(self, event: Event) -> list[Command]: ...
    async def exchange(self, device: Device, call: Awaitable[T]) -> T | None: ...
    def device_failed(self, device: Device, error: str) -> None:
        """A failed exchange with `device` (counted; its freshness judges it, S7)."""

    def output_mismatch(self, shown: tuple[bool, ...], wanted: tuple[bool, ...] | None) -> None:
        """S8: the I/O module does not confirm the commanded outputs."""

    def safe_reaction(self, late_s: float) -> None:
        """S7's deadline met (late_s <= 0) or missed by late_s."""

    def note_booted(self) -> None:
        """The outputs just written: boot may be over (READY=1)."""


@dataclass(frozen=True, slots=True)
class JournaledEvent:
    """What the journal gave an event: its gapless per-lane `seq`, the `event_id`
    consumers dedupe on, and its wall-clock `ts` (None: a memory journal keeps none)."""

    seq: int
    event_id: str
    ts: str | None = None


class JournalPort(Protocol):
    async def append_event(
        self, lane: str, type_: str, data: Mapping[str, object]
    ) -> JournaledEvent: ...
    async def commit_transaction(self, record: TransactionRecord) -> None: ...
    async def save_context(self, lane: str, context: DeckContext | None) -> None: ...
    async def load_context(self, lane: str) -> DeckContext | None: ...
    async def persist_fault(self, lane: str, reason: str | None) -> None: ...
    async def load_fault(self, lane: str) -> str | None: ...
    async def persist_mode(self, lane: str, mode: Mode) -> None: ...
    async def load_mode(self, lane: str) -> Mode:
        """The operator's mode the lane was left in (auto for a lane never set)."""
        ...

    async def admission_open(self) -> bool:
        """False while the journal is past its admission limit: admit no more vehicles."""
        ...


@dataclass(frozen=True, slots=True)
class VerifiedDecision:
    """A clearance decision that passed S6's checks (signature, lane, expiry, seq)."""

    request_id: str
    decision: Decision
    declared_gross_kg: int | None = None
    tolerance_kg: int | None = None
    plate: str | None = None  # the plate the central system expects for the tag


DecisionSink = Callable[[VerifiedDecision], None]


class ClearancePort(Protocol):
    def request(
        self,
        lane: str,
        request_id: str,
        tag: str | None,
        deliver: DecisionSink,
        plate: str | None = None,
    ) -> None:
        """Ask for clearance by tag (with the plate read, if any) or by plate alone; a
        verified decision comes back through `deliver`, maybe never."""
        ...


@dataclass(slots=True)
class MemoryJournal:
    """The journal's contract kept in memory (tests, demo, simulation). With `keep_events`,
    only about the last that many events of each lane are kept (and every one counted),
    with `keep_transactions` only about the last that many transactions: a simulated day
    of eight lanes journals half a million events and 25,000 transactions, which a
    gateway keeps on disk, not in RAM. `on_commit` hears of each newly committed one."""

    events: dict[str, list[tuple[str, Mapping[str, object]]]] = field(default_factory=dict)
    transactions: dict[str, TransactionRecord] = field(default_factory=dict)
    contexts: dict[str, DeckContext | None] = field(default_factory=dict)
    faults: dict[str, str | None] = field(default_factory=dict)
    modes: dict[str, Mode] = field(default_factory=dict)
    full: bool = False  # tests set it to stand for a journal past its admission limit
    keep_events: int | None = None
    keep_transactions: int | None = None
    event_count: int = 0
    seqs: dict[str, int] = field(default_factory=dict)
    transaction_count: int = 0
    on_commit: list[Callable[[TransactionRecord], None]] = field(default_factory=list)

    def __post_init__(self) -> None:
        for name in ("keep_events", "keep_transactions"):
            kept = getattr(self, name)
            if kept is not None and kept < 1:
                raise ValueError(f"{name}: must be at least 1, not {kept}")

    async def append_event(
        self, lane: str, type_: str, data: Mapping[str, object]
    ) -> JournaledEvent:
        kept = self.events.setdefault(lane, [])
        kept.append((type_, dict(data)))
        self.event_count += 1
        seq = self.seqs[lane] = self.seqs.get(lane, 0) + 1
        if self.keep_events is not None and len(kept) >= 2 * self.keep_events:
            del kept[: -self.keep_events]  # trimmed in halves: amortised O(1) an event
        return JournaledEvent(seq, f"{lane}-{seq}")  # deterministic: simulations repeat

    async def commit_transaction(self, record: TransactionRecord) -> None:
        stored = self.transactions.get(record.transaction_id)
        if stored is not None:  # a retried commit: the same again is no news
            if stored != record:
                raise ValueError(
                    f"transaction {record.transaction_id}: committed twice, differently"
                )
            return
        self.transactions[record.transaction_id] = record
        self.transaction_count += 1
        for listener in self.on_commit:
            listener(record)
        keep = self.keep_transactions
        if keep is not None and len(self.transactions) >= 2 * keep:
            # the oldest go first (insertion order); a retried commit comes within seconds
            for old in list(itertools.islice(self.transactions, len(self.transactions) - keep)):
                del self.transactions[old]

    async def save_context(self, lane: str, context: DeckContext | None) -> None:
        self.contexts[lane] = context

    async def load_context(self, lane: str) -> DeckContext | None:
        return self.contexts.get(lane)

    async def persist_fault(self, lane: str, reason: str | None) -> None:
        self.faults[lane] = reason

    async def load_fault(self, lane: str) -> str | None:
        return self.faults.get(lane)

    async def persist_mode(self, lane: str, mode: Mode) -> None:
        self.modes[lane] = mode

    async def load_mode(self, lane: str) -> Mode:
        return self.modes.get(lane, Mode.AUTO)

    async def admission_open(self) -> bool:
        return not self.full
