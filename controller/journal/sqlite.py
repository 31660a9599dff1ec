"""The journal on SQLite (WAL, synchronous=FULL), written off the event loop.

Theory of operation: one connection lives on one writer thread (a single-thread
executor), so writes keep the order the lane issued them and a slow fsync never stalls
the loop (a stalled loop would trip the I/O module's watchdog). Each call returns only
after its SQL transaction committed, which with synchronous=FULL means fsync'd: a
`TransactionCommitted` is never sent for a record a crash could lose (S10). Event seqs
are allocated inside the inserting transaction, so they are gapless per lane even across
kill -9. Committing a transaction twice is a no-op; committing a different record under
the same id is refused. `PRAGMA integrity_check` runs on open.
"""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from controller.core.commands import DeckContext, TransactionRecord
from controller.errors import GateError
from controller.journal.codec import context_from, dumps, record_from

T = TypeVar("T")
SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    lane TEXT NOT NULL, seq INTEGER NOT NULL, event_id TEXT NOT NULL UNIQUE,
    ts TEXT NOT NULL, type TEXT NOT NULL, data TEXT NOT NULL,
    delivered INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (lane, seq));
CREATE TABLE IF NOT EXISTS transactions (
    transaction_id TEXT PRIMARY KEY, lane TEXT NOT NULL, record TEXT NOT NULL, ts TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS contexts (lane TEXT PRIMARY KEY, context TEXT);
CREATE TABLE IF NOT EXISTS faults (lane TEXT PRIMARY KEY, reason TEXT);
"""


class JournalError(GateError):
    """The journal cannot be opened or written; `path` names the file."""


class SqliteJournal:
    def __init__(self, path: Path, wall_clock: Callable[[], float]) -> None:
        self.path = path
        self._clock = wall_clock
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="journal")
        self._db: sqlite3.Connection | None = None

    @classmethod
    async def open(cls, path: Path, wall_clock: Callable[[], float]) -> SqliteJournal:
        journal = cls(path, wall_clock)
        await journal._run(journal._connect)
        return journal

    def _connect(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            db.execute("PRAGMA busy_timeout=5000")
            (status,) = db.execute("PRAGMA integrity_check").fetchone()
            if status != "ok":
                raise JournalError(f"{self.path}: integrity check failed: {status}")
            db.executescript(SCHEMA)
        except (sqlite3.Error, OSError) as error:
            raise JournalError(f"{self.path}: cannot open the journal: {error}") from error
        self._db = db

    async def _run(self, work: Callable[[], T]) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, work)

    def _ts(self) -> str:
        return (
            datetime.fromtimestamp(self._clock(), UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z")
        )

    def _write(self, sql: str, *params: object) -> None:
        db = self._conn()
        try:
            with db:
                db.execute("BEGIN IMMEDIATE")
                db.execute(sql, params)
        except sqlite3.Error as error:
            raise JournalError(f"{self.path}: write failed: {error}") from error

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            raise JournalError(f"{self.path}: journal is closed")
        return self._db

    # ------------------------------------------------------------------ JournalPort
    async def append_event(self, lane: str, type_: str, data: Mapping[str, object]) -> None:
        await self._run(lambda: self._append(lane, type_, dumps(dict(data))))

    def _append(self, lane: str, type_: str, data: str) -> int:
        db = self._conn()
        try:
            with db:
                db.execute("BEGIN IMMEDIATE")
                (last,) = db.execute(
                    "SELECT COALESCE(MAX(seq), 0) FROM events WHERE lane = ?", (lane,)
                ).fetchone()
                db.execute(
                    "INSERT INTO events (lane, seq, event_id, ts, type, data) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (lane, last + 1, str(uuid.uuid4()), self._ts(), type_, data),
                )
        except sqlite3.Error as error:
            raise JournalError(f"{self.path}: event not written: {error}") from error
        return int(last) + 1

    async def commit_transaction(self, record: TransactionRecord) -> None:
        await self._run(lambda: self._commit(record))

    def _commit(self, record: TransactionRecord) -> None:
        text = dumps(record)
        db = self._conn()
        try:
            with db:
                db.execute("BEGIN IMMEDIATE")
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
                        "INSERT INTO transactions VALUES (?, ?, ?, ?)",
                        (record.transaction_id, record.lane, text, self._ts()),
                    )
        except sqlite3.Error as error:
            raise JournalError(f"{self.path}: transaction not committed: {error}") from error

    async def save_context(self, lane: str, context: DeckContext | None) -> None:
        text = None if context is None else dumps(context)
        await self._run(
            lambda: self._write("INSERT OR REPLACE INTO contexts VALUES (?, ?)", lane, text)
        )

    async def load_context(self, lane: str) -> DeckContext | None:
        row = await self._run(
            lambda: (
                self._conn()
                .execute("SELECT context FROM contexts WHERE lane = ?", (lane,))
                .fetchone()
            )
        )
        return None if row is None or row[0] is None else context_from(row[0])

    async def persist_fault(self, lane: str, reason: str | None) -> None:
        await self._run(
            lambda: self._write("INSERT OR REPLACE INTO faults VALUES (?, ?)", lane, reason)
        )

    async def load_fault(self, lane: str) -> str | None:
        row = await self._run(
            lambda: (
                self._conn().execute("SELECT reason FROM faults WHERE lane = ?", (lane,)).fetchone()
            )
        )
        return None if row is None else row[0]

    # ------------------------------------------------------------------ reading
    async def transactions(self, lane: str | None = None) -> list[TransactionRecord]:
        def query() -> list[TransactionRecord]:
            rows = self._conn().execute(
                "SELECT record FROM transactions WHERE ? IS NULL OR lane = ? ORDER BY rowid",
                (lane, lane),
            )
            return [record_from(r[0]) for r in rows]

        return await self._run(query)

    async def event_seqs(self, lane: str) -> list[int]:
        return await self._run(
            lambda: [
                r[0]
                for r in self._conn().execute(
                    "SELECT seq FROM events WHERE lane = ? ORDER BY seq", (lane,)
                )
            ]
        )

    async def close(self) -> None:
        def shut() -> None:
            if self._db is not None:
                self._db.close()
                self._db = None

        await self._run(shut)
        self._executor.shutdown(wait=True)
