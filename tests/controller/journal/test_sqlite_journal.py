"""The SQLite journal: durability settings, gapless seqs, idempotent commits, restart
context, latched faults, writes off the loop, and kill -9 at random points."""

from __future__ import annotations

import asyncio
import random
import signal
import sqlite3
import sys
import threading
from pathlib import Path

import pytest

from controller.core.commands import DeckContext, TransactionRecord
from controller.core.types import Decision, LaneState, Outcome
from controller.journal.sqlite import JournalError, SqliteJournal
from controller.runtime.ports import JournaledEvent

WRITER = Path(__file__).with_name("crash_writer.py")
ROOT = Path(__file__).resolve().parents[3]


def record(n: int, gross: int = 24500) -> TransactionRecord:
    return TransactionRecord(
        f"tx-{n}",
        "L01",
        "rq",
        "E1",
        Outcome.CLEARED,
        gross,
        b"\x02f",
        Decision.GRANT,
        24400,
        "ok",
        (("weighed", 12.5),),
    )


async def test_durability_settings_and_gapless_seqs(tmp_path: Path) -> None:
    journal = await SqliteJournal.open(tmp_path / "j.db", lambda: 1_800_000_000.0)
    await asyncio.gather(*(journal.append_event("L01", "e", {"i": i}) for i in range(50)))
    await journal.append_event("L02", "e", {})
    assert await journal.event_seqs("L01") == list(range(1, 51))
    assert await journal.event_seqs("L02") == [1]
    await journal.close()
    db = sqlite3.connect(tmp_path / "j.db")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


async def test_commits_are_idempotent_and_refuse_a_different_record(tmp_path: Path) -> None:
    journal = await SqliteJournal.open(tmp_path / "j.db", lambda: 0.0)
    await journal.commit_transaction(record(1))
    await journal.commit_transaction(record(1))
    assert await journal.transactions() == [record(1)]
    with pytest.raises(JournalError, match="different record"):
        await journal.commit_transaction(record(1, gross=1))
    await journal.close()


async def test_context_and_fault_survive_a_reopen(tmp_path: Path) -> None:
    context = DeckContext(
        "tx-9",
        LaneState.RELEASING,
        "E9",
        "rq-9",
        Decision.INSPECT,
        30000,
        400,
        29950,
        b"\x02raw",
        True,
        Outcome.CLEARED,
        "",
        (("weighed", 3.0),),
    )
    journal = await SqliteJournal.open(tmp_path / "j.db", lambda: 0.0)
    await journal.save_context("L01", context)
    await journal.persist_fault("L01", "S7: io data lost")
    await journal.close()
    again = await SqliteJournal.open(tmp_path / "j.db", lambda: 0.0)
    assert await again.load_context("L01") == context
    assert await again.load_fault("L01") == "S7: io data lost"
    await again.save_context("L01", None)
    await again.persist_fault("L01", None)
    assert await again.load_context("L01") is None
    assert await again.load_fault("L01") is None
    await again.close()


async def test_writes_run_off_the_event_loop_thread(tmp_path: Path) -> None:
    journal = await SqliteJournal.open(tmp_path / "j.db", lambda: 0.0)
    seen: list[int] = []
    original = journal._append

    def spy(lane: str, type_: str, data: str) -> JournaledEvent:
        seen.append(threading.get_ident())
        return original(lane, type_, data)

    journal._append = spy  # type: ignore[method-assign]
    await journal.append_event("L01", "e", {})
    assert seen
    assert seen[0] != threading.get_ident()
    await journal.close()


async def test_kill_9_loses_no_committed_transaction(tmp_path: Path) -> None:
    path, rng, promised = tmp_path / "j.db", random.Random(7), set()
    for _ in range(12):
        process = await asyncio.create_subprocess_exec(
            sys.executable, str(WRITER), str(path), stdout=asyncio.subprocess.PIPE, cwd=ROOT
        )
        assert process.stdout is not None
        async with asyncio.timeout(30):
            for _ in range(rng.randint(1, 25)):
                promised.add((await process.stdout.readline()).decode().strip())
        process.send_signal(signal.SIGKILL)
        await process.wait()
    journal = await SqliteJournal.open(path, lambda: 0.0)  # integrity_check runs here
    kept = {r.transaction_id for r in await journal.transactions()}
    assert promised <= kept
    seqs = await journal.event_seqs("L01")
    assert seqs == list(range(1, len(seqs) + 1))
    # the outbox kept the written order through every kill: seqs, then commits, in order
    pending = await journal.pending(limit=1_000_000)
    assert [i.seq for i in pending if i.kind == "event"] == seqs
    committed = [i.key for i in pending if i.kind == "transaction"]
    assert committed == [f"tx-{n}" for n in range(len(committed))]
    assert promised <= set(committed)
    await journal.close()


async def test_a_failing_disk_reaches_the_runtime_as_a_journal_error(tmp_path: Path) -> None:
    """The boundary maps OS errors (a full or vanished disk) into JournalError, so the
    runtime's GateError handling is the one place a failed write is met."""
    journal = await SqliteJournal.open(tmp_path / "j.db", lambda: 0.0)

    def full_disk() -> None:
        raise OSError(28, "No space left on device")

    with pytest.raises(JournalError, match="No space left on device"):
        await journal._run(full_disk)
    await journal.close()
    with pytest.raises(JournalError, match="journal is closed"):
        await journal.commit_transaction(record(2))
