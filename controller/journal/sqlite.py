"""The journal on SQLite (WAL, synchronous=FULL), written off the event loop.

Theory of operation: one connection lives on one writer thread (a single-thread
executor), so writes keep the order the lane issued them and a slow fsync never stalls
the loop (a stalled loop would trip the I/O module's watchdog). Each call returns only
after its SQL transaction committed, which with synchronous=FULL means fsync'd: a
`TransactionCommitted` is never sent for a record a crash could lose (S10). Event seqs
are allocated from `lane_seqs` inside the inserting transaction, so they are gapless per
lane even across kill -9 and after pruning. Committing a transaction twice is a no-op;
committing a different record under the same id is refused. `PRAGMA integrity_check`
runs on open, then the schema is created or upgraded (schema.py).

Store-and-forward (DESIGN 6): with `outbox=True` (a broker is configured) every event and
transaction is written pending, numbered from one counter across both kinds; the bridge
reads `pending()` in that order and calls `mark_delivered()` on PUBACK. Without a broker
rows are written delivered: nothing is pending. S6's replay state (`accept_seq`) is an
atomic compare-and-store, durable before it answers.

Retention: `prune()` deletes delivered rows only, oldest first, by age and then by size
(retention.py), one batch per writer-thread turn so lane writes interleave with it.
Admission: past `limits.admission_limit_bytes` the journal says `admission_open() ->
False`, and the lanes admit no more vehicles; it keeps writing (the vehicle on the deck
must still commit) and never drops a record to make room.
"""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar

from controller.core.commands import DeckContext, TransactionRecord
from controller.core.types import Mode
from controller.errors import GateError
from controller.journal import retention, schema
from controller.journal.codec import context_from, dumps, json_object, record_from, rfc3339
from controller.runtime.ports import JournaledEvent

T = TypeVar("T")
MIB = 1 << 20
SEQ_KINDS = frozenset({"decision", "command"})
Kind = Literal["event", "transaction"]
_KINDS: dict[str, Kind] = {"event": "event", "transaction": "transaction"}
_PENDING = """
SELECT 'event', lane, event_id, seq, ts, type, data, outbox_order FROM events
WHERE delivered = 0
UNION ALL
SELECT 'transaction', lane, transaction_id, NULL, ts, 'transaction', record, outbox_order
FROM transactions WHERE delivered = 0
ORDER BY outbox_order LIMIT ?
"""
_LAST_EVENT = """
SELECT 'event', lane, event_id, seq, ts, type, data, outbox_order FROM events
WHERE lane = ? ORDER BY seq DESC LIMIT 1
"""


class JournalError(GateError):
    """The journal cannot be opened or written; `path` names the file."""


@dataclass(frozen=True, slots=True)
class JournalLimits:
    """Retention and headroom: the gap between the two byte figures is what the vehicles
    already admitted may still write after admissions close."""

    max_bytes: int = 1024 * MIB
    admission_limit_bytes: int = 900 * MIB
    max_age_days: float = 90.0

    def __post_init__(self) -> None:
        if not 0 < self.admission_limit_bytes < self.max_bytes:
            raise ValueError("journal limits: admission limit must be above 0 and below max")

    @classmethod
    def in_mb(cls, *, max_age_days: float, max_mb: int, admission_limit_mb: int) -> JournalLimits:
        """From the config's figures (`retention:` in megabytes)."""
        return cls(max_mb * MIB, admission_limit_mb * MIB, max_age_days)

    @property
    def max_age_s(self) -> float:
        return self.max_age_days * 86_400.0


@dataclass(frozen=True, slots=True)
class OutboxItem:
    """One journaled record as the bridge publishes it."""

    kind: Kind
    lane: str
    key: str  # event_id or transaction_id: what consumers dedupe on
    seq: int | None  # events only
    ts: str
    type: str  # the event type, or "transaction"
    data: dict[str, object]  # event data, or the transaction record


def _item(row: tuple[str, str, str, int | None, str, str, str, int | None]) -> OutboxItem:
    kind, lane, key, seq, ts, type_, data, _order = row
    return OutboxItem(_KINDS[kind], lane, key, seq, ts, type_, json_object(data))


class SqliteJournal:
    def __init__(
        self,
        path: Path,
        wall_clock: Callable[[], float],
        *,
        outbox: bool = False,
        limits: JournalLimits = JournalLimits(),
    ) -> None:
        self.path = path
        self.outbox = outbox
        self.limits = limits
        self._clock = wall_clock
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="journal")
        self._db: sqlite3.Connection | None = None

    @classmethod
    async def open(
        cls,
        path: Path,
        wall_clock: Callable[[], float],
        *,
        outbox: bool = False,
        limits: JournalLimits = JournalLimits(),
    ) -> SqliteJournal:
        journal = cls(path, wall_clock, outbox=outbox, limits=limits)
        await journal._run(journal._connect)
        return journal

    def _connect(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            # lets prune hand freed pages back to the disk; takes effect only on a new file,
            # and only before journal_mode=WAL writes the file's first page
            db.execute("PRAGMA auto_vacuum=INCREMENTAL")
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            db.execute("PRAGMA busy_timeout=5000")
            (status,) = db.execute("PRAGMA integrity_check").fetchone()
            if status != "ok":
                raise JournalError(f"{self.path}: integrity check failed: {status}")
            schema.create(db)
        except (sqlite3.Error, OSError) as error:
            raise JournalError(f"{self.path}: cannot open the journal: {error}") from error
        self._db = db

    async def _run(self, work: Callable[[], T]) -> T:
        """`work` on the writer thread; what fails there leaves as a JournalError (the
        runtime trusts this boundary and catches GateError alone)."""
        loop = asyncio.get_running_loop()
        try:
            future = loop.run_in_executor(self._executor, work)
        except RuntimeError:  # the writer thread is gone: close() ran
            raise JournalError(f"{self.path}: journal is closed") from None
        try:
            return await future
        except (OSError, ValueError, sqlite3.Error) as error:
            raise JournalError(f"{self.path}: {error}") from error

    def _ts(self) -> str:
        return rfc3339(self._clock())

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            raise JournalError(f"{self.path}: journal is closed")
        return self._db

    def _transact(self, what: str, work: Callable[[sqlite3.Connection], T]) -> T:
        """`work` in one immediate transaction, committed (fsync'd) before returning."""
        db = self._conn()
        try:
            with db:
                db.execute("BEGIN IMMEDIATE")
                return work(db)
        except sqlite3.Error as error:
            raise JournalError(f"{self.path}: {what}: {error}") from error

    async def _on_writer(self, what: str, work: Callable[[sqlite3.Connection], T]) -> T:
        """`work` on the writer thread, outside a transaction (reads, maintenance)."""

        def guarded() -> T:
            try:
                return work(self._conn())
            except sqlite3.Error as error:
                raise JournalError(f"{self.path}: {what}: {error}") from error

        return await self._run(guarded)

    def _write(self, sql: str, *params: object) -> None:
        self._transact("write failed", lambda db: db.execute(sql, params))

    def _new_row(self, db: sqlite3.Connection) -> tuple[int, int]:
        """(delivered, outbox_order) for a row being written: without a broker nothing is
        pending, so the row is born delivered."""
        (order,) = db.execute(
            "INSERT INTO counters VALUES ('outbox', 1) "
            "ON CONFLICT (name) DO UPDATE SET value = value + 1 RETURNING value"
        ).fetchall()[0]
        return (0 if self.outbox else 1), int(order)

    # ------------------------------------------------------------------ JournalPort
    async def append_event(
        self, lane: str, type_: str, data: Mapping[str, object]
    ) -> JournaledEvent:
        return await self._run(lambda: self._append(lane, type_, dumps(dict(data))))

    def _append(self, lane: str, type_: str, data: str) -> JournaledEvent:
        def insert(db: sqlite3.Connection) -> JournaledEvent:
            (seq,) = db.execute(
                "INSERT INTO lane_seqs VALUES (?, 1) "
                "ON CONFLICT (lane) DO UPDATE SET last_seq = last_seq + 1 RETURNING last_seq",
                (lane,),
            ).fetchall()[0]
            written = JournaledEvent(int(seq), str(uuid.uuid4()), self._ts())
            db.execute(
                "INSERT INTO events (lane, seq, event_id, ts, type, data, delivered, "
                "outbox_order) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (lane, seq, written.event_id, written.ts, type_, data, *self._new_row(db)),
            )
            return written

        return self._transact("event not written", insert)

    async def commit_transaction(self, record: TransactionRecord) -> None:
        await self._run(lambda: self._commit(record))

    def _commit(self, record: TransactionRecord) -> None:
        text = dumps(record)

        def insert(db: sqlite3.Connection) -> None:
            row = db.execute(
                "SELECT record FROM transactions WHERE transaction_id = ?",
                (record.transaction_id,),
            ).fetchone()
            if row is not None and row[0] != text:
                raise JournalError(
                    f"transaction {record.transaction_id}: a different "
                    "record is already committed under this id"
                )
            if row is None:
                db.execute(
                    "INSERT INTO transactions (transaction_id, lane, record, ts, delivered, "
                    "outbox_order) VALUES (?, ?, ?, ?, ?, ?)",
                    (record.transaction_id, record.lane, text, self._ts(), *self._new_row(db)),
                )

        self._transact("transaction not committed", insert)

    async def save_context(self, lane: str, context: DeckContext | None) -> None:
        text = None if context is None else dumps(context)
        await self._run(
            lambda: self._write("INSERT OR REPLACE INTO contexts VALUES (?, ?)", lane, text)
        )

    async def load_context(self, lane: str) -> DeckContext | None:
        row = await self._fetch_one("SELECT context FROM contexts WHERE lane = ?", lane)
        return None if row is None or row[0] is None else context_from(row[0])

    async def persist_fault(self, lane: str, reason: str | None) -> None:
        await self._run(
            lambda: self._write("INSERT OR REPLACE INTO faults VALUES (?, ?)", lane, reason)
        )

    async def load_fault(self, lane: str) -> str | None:
        row = await self._fetch_one("SELECT reason FROM faults WHERE lane = ?", lane)
        return None if row is None else row[0]

    async def persist_mode(self, lane: str, mode: Mode) -> None:
        await self._run(
            lambda: self._write("INSERT OR REPLACE INTO modes VALUES (?, ?)", lane, mode.value)
        )

    async def load_mode(self, lane: str) -> Mode:
        """The journaled mode (auto for a lane never set); one this code does not know is
        refused rather than guessed: a lane must not boot into the wrong mode."""
        row = await self._fetch_one("SELECT mode FROM modes WHERE lane = ?", lane)
        if row is None:
            return Mode.AUTO
        try:
            return Mode(row[0])
        except ValueError:
            raise JournalError(f"{self.path}: modes.{lane}: unknown mode {row[0]!r}") from None

    async def admission_open(self) -> bool:
        """False past the admission limit: the lanes then admit no more vehicles."""
        return await self.usage_bytes() <= self.limits.admission_limit_bytes

    async def _fetch_one(self, sql: str, *params: object) -> Any:
        """The first row of `sql`, as sqlite3 gives it (or None)."""
        rows = await self._fetch(sql, *params)
        return rows[0] if rows else None

    async def _fetch(self, sql: str, *params: object) -> list[Any]:
        return await self._on_writer("read failed", lambda db: db.execute(sql, params).fetchall())

    # ------------------------------------------------------------------ outbox
    async def pending(self, limit: int = 500) -> list[OutboxItem]:
        """Undelivered events and transactions, oldest written first."""
        return [_item(row) for row in await self._fetch(_PENDING, limit)]

    async def pending_count(self) -> int:
        row = await self._fetch_one(
            "SELECT (SELECT COUNT(*) FROM events WHERE delivered = 0)"
            " + (SELECT COUNT(*) FROM transactions WHERE delivered = 0)"
        )
        return int(row[0])

    async def mark_delivered(self, keys: Sequence[str]) -> None:
        """Mark events (by event_id) and transactions (by transaction_id) delivered;
        unknown keys are ignored (a PUBACK can arrive twice)."""
        params = [(key,) for key in keys]

        def mark(db: sqlite3.Connection) -> None:
            db.executemany("UPDATE events SET delivered = 1 WHERE event_id = ?", params)
            db.executemany("UPDATE transactions SET delivered = 1 WHERE transaction_id = ?", params)

        await self._run(lambda: self._transact("delivery not recorded", mark))

    async def last_event(self, lane: str) -> OutboxItem | None:
        row = await self._fetch_one(_LAST_EVENT, lane)
        return None if row is None else _item(row)

    # ------------------------------------------------------------------ S6 replay state
    async def last_accepted_seq(self, lane: str, key_id: str, kind: str) -> int:
        row = await self._fetch_one(
            "SELECT seq FROM accepted_seqs WHERE lane = ? AND key_id = ? AND kind = ?",
            lane,
            key_id,
            _seq_kind(kind),
        )
        return 0 if row is None else int(row[0])

    async def accept_seq(self, lane: str, key_id: str, kind: str, seq: int) -> bool:
        """Store `seq` only if strictly above the last accepted for (lane, key_id, kind),
        in one statement (no read-then-write race); True when it was stored."""
        params = (lane, key_id, _seq_kind(kind), seq)
        if seq <= 0:  # never above the implicit 0 of a pair seen for the first time
            return False

        def store(db: sqlite3.Connection) -> bool:
            cursor = db.execute(
                "INSERT INTO accepted_seqs VALUES (?, ?, ?, ?) "
                "ON CONFLICT (lane, key_id, kind) DO UPDATE SET seq = excluded.seq "
                "WHERE excluded.seq > accepted_seqs.seq",
                params,
            )
            return cursor.rowcount == 1

        return await self._run(lambda: self._transact("seq not stored", store))

    # ------------------------------------------------------------------ retention
    async def usage_bytes(self) -> int:
        """Bytes the rows hold (free pages left out): what the limits are compared with."""
        return await self._on_writer("size unknown", schema.usage_bytes)

    async def prune(self, *, max_age_s: float, max_bytes: int) -> int:
        """Delete delivered rows older than `max_age_s`, then the oldest delivered rows
        while the journal holds more than `max_bytes`; returns how many rows went."""
        cutoff = rfc3339(max(0.0, self._clock() - max_age_s))  # 1970: no age limit
        deleted = await self._prune_batches(lambda _db: cutoff)
        deleted += await self._prune_batches(
            lambda db: retention.NO_CUTOFF if schema.usage_bytes(db) > max_bytes else None
        )
        if deleted:
            await self._on_writer("prune failed", retention.release_free_pages)
        return deleted

    async def _prune_batches(self, older_than: Callable[[sqlite3.Connection], str | None]) -> int:
        """Batches, one per writer-thread turn, until one deletes nothing. `older_than`
        runs on the writer thread before each batch: its age cutoff, or None to stop."""

        def batch(db: sqlite3.Connection) -> int:
            cutoff = older_than(db)
            return 0 if cutoff is None else retention.delete_batch(db, cutoff)

        total = 0
        while deleted := await self._on_writer("prune failed", batch):
            total += deleted
        return total

    # ------------------------------------------------------------------ reading
    async def transactions(self, lane: str | None = None) -> list[TransactionRecord]:
        rows = await self._fetch(
            "SELECT record FROM transactions WHERE ? IS NULL OR lane = ? ORDER BY rowid",
            lane,
            lane,
        )
        return [record_from(r[0]) for r in rows]

    async def event_seqs(self, lane: str) -> list[int]:
        rows = await self._fetch("SELECT seq FROM events WHERE lane = ? ORDER BY seq", lane)
        return [int(r[0]) for r in rows]

    async def close(self) -> None:
        def shut() -> None:
            if self._db is not None:
                self._db.close()
                self._db = None

        await self._run(shut)
        self._executor.shutdown(wait=True)


def _seq_kind(kind: str) -> str:
    if kind not in SEQ_KINDS:
        raise ValueError(f"seq kind {kind!r}: must be one of {sorted(SEQ_KINDS)}")
    return kind
