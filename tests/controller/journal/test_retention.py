"""Retention and admission: prune deletes delivered rows only, oldest first, by age then
size; seqs stay gapless after it; the admission limit closes and reopens with the size;
an older journal file is upgraded on open."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from controller.core.commands import DeckContext
from controller.core.types import LaneState
from controller.journal import retention
from controller.journal.codec import dumps
from controller.journal.sqlite import JournalLimits, SqliteJournal
from tests.controller.journal.helpers import DAY, WallClock, record

BIG = 1 << 40


@pytest.fixture(autouse=True)
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    """Batches of 7 rows, so every prune here runs several batches."""
    monkeypatch.setattr(retention, "BATCH", 7)


async def test_prune_by_age_deletes_only_old_delivered_rows(tmp_path: Path) -> None:
    clock = WallClock()
    journal = await SqliteJournal.open(tmp_path / "j.db", clock, outbox=True)
    for n in range(20):
        await journal.append_event("L01", "old", {"n": n})
    await journal.commit_transaction(record("tx-old"))
    delivered = [i.key for i in await journal.pending(limit=1000)][:15]  # 5 stay pending
    await journal.mark_delivered([*delivered, "tx-old"])
    clock.now += 30 * DAY
    for n in range(10):
        await journal.append_event("L01", "new", {"n": n})
    await journal.commit_transaction(record("tx-new"))
    await journal.mark_delivered([i.key for i in await journal.pending(limit=1000)][5:])
    pending = await journal.pending(limit=1000)

    assert await journal.prune(max_age_s=10 * DAY, max_bytes=BIG) == 16  # 15 events + tx-old
    assert await journal.pending(limit=1000) == pending
    assert await journal.event_seqs("L01") == list(range(16, 31))
    assert [r.transaction_id for r in await journal.transactions()] == ["tx-new"]
    assert await journal.prune(max_age_s=10 * DAY, max_bytes=BIG) == 0
    await journal.close()


async def test_prune_by_size_keeps_the_newest_and_everything_pending(tmp_path: Path) -> None:
    clock = WallClock()
    journal = await SqliteJournal.open(tmp_path / "j.db", clock, outbox=True)
    for n in range(400):
        clock.now += 1
        await journal.append_event("L01", "e", {"n": n, "pad": "x" * 1000})
    await journal.mark_delivered([i.key for i in await journal.pending(limit=1000)][:390])
    full = await journal.usage_bytes()
    target = full // 2

    deleted = await journal.prune(max_age_s=BIG, max_bytes=target)
    assert 0 < deleted < 390
    assert await journal.usage_bytes() <= target
    seqs = await journal.event_seqs("L01")
    assert seqs == list(range(401 - len(seqs), 401))  # the oldest went first
    assert [i.seq for i in await journal.pending()] == list(range(391, 401))
    assert (tmp_path / "j.db").stat().st_size < full  # freed pages went back to the disk

    assert await journal.prune(max_age_s=BIG, max_bytes=0) == len(seqs) - 10
    assert await journal.event_seqs("L01") == list(range(391, 401))
    await journal.close()


async def test_seqs_stay_gapless_after_everything_was_pruned(tmp_path: Path) -> None:
    path = tmp_path / "j.db"
    clock = WallClock()
    journal = await SqliteJournal.open(path, clock)  # no broker: all delivered
    for n in range(5):
        await journal.append_event("L01", "e", {"n": n})
    clock.now += 1
    assert await journal.prune(max_age_s=0.5, max_bytes=BIG) == 5
    assert await journal.event_seqs("L01") == []
    await journal.append_event("L01", "e", {})
    assert await journal.event_seqs("L01") == [6]
    await journal.close()
    again = await SqliteJournal.open(path, WallClock())
    await again.append_event("L01", "e", {})
    assert await again.event_seqs("L01") == [6, 7]
    await again.close()


async def test_prune_keeps_the_deck_context_its_transaction_faults_and_seqs(
    tmp_path: Path,
) -> None:
    clock = WallClock()
    journal = await SqliteJournal.open(tmp_path / "j.db", clock)
    context = DeckContext(
        "tx-deck", LaneState.RELEASING, "E9", "rq", None, None, None, 30000, b"", True, None, "", ()
    )
    await journal.commit_transaction(record("tx-deck"))
    await journal.commit_transaction(record("tx-gone"))
    await journal.save_context("L01", context)
    await journal.persist_fault("L02", "S7: io data lost")
    assert await journal.accept_seq("L01", "central", "decision", 3)
    clock.now += DAY

    assert await journal.prune(max_age_s=1, max_bytes=0) == 1
    assert [r.transaction_id for r in await journal.transactions()] == ["tx-deck"]
    assert await journal.load_context("L01") == context
    assert await journal.load_fault("L02") == "S7: io data lost"
    assert await journal.last_accepted_seq("L01", "central", "decision") == 3
    await journal.close()


async def test_admission_closes_past_the_limit_and_reopens_after_a_prune(tmp_path: Path) -> None:
    probe = await SqliteJournal.open(tmp_path / "probe.db", WallClock())
    empty = await probe.usage_bytes()
    await probe.close()
    limits = JournalLimits(max_bytes=empty + 200_000, admission_limit_bytes=empty + 100_000)
    journal = await SqliteJournal.open(tmp_path / "j.db", WallClock(), limits=limits)
    assert journal.limits is limits
    assert await journal.admission_open()
    while await journal.usage_bytes() <= limits.admission_limit_bytes:
        assert await journal.admission_open()
        await journal.append_event("L01", "e", {"pad": "x" * 2000})
    assert not await journal.admission_open()
    await journal.prune(max_age_s=BIG, max_bytes=empty + 50_000)
    assert await journal.admission_open()
    await journal.close()


def test_limits_from_the_config_figures_and_their_checks() -> None:
    limits = JournalLimits.in_mb(max_age_days=30, max_mb=100, admission_limit_mb=80)
    assert limits == JournalLimits(100 << 20, 80 << 20, 30)
    assert limits.max_age_s == 30 * DAY
    with pytest.raises(ValueError, match="admission limit"):
        JournalLimits(max_bytes=10, admission_limit_bytes=10)


OLD_SCHEMA = """
CREATE TABLE events (
    lane TEXT NOT NULL, seq INTEGER NOT NULL, event_id TEXT NOT NULL UNIQUE,
    ts TEXT NOT NULL, type TEXT NOT NULL, data TEXT NOT NULL,
    delivered INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (lane, seq));
CREATE TABLE transactions (
    transaction_id TEXT PRIMARY KEY, lane TEXT NOT NULL, record TEXT NOT NULL, ts TEXT NOT NULL);
CREATE TABLE contexts (lane TEXT PRIMARY KEY, context TEXT);
CREATE TABLE faults (lane TEXT PRIMARY KEY, reason TEXT);
INSERT INTO events VALUES ('L01', 1, 'e-1', '2027-01-01T00:00:00.000Z', 'e', '{}', 0);
INSERT INTO events VALUES ('L01', 2, 'e-2', '2027-01-01T00:00:01.000Z', 'e', '{}', 0);
"""


def write_old_journal(path: Path) -> None:
    """A journal file as the version before the outbox left it."""
    db = sqlite3.connect(path)
    db.executescript(OLD_SCHEMA)
    db.execute(
        "INSERT INTO transactions VALUES ('tx-1', 'L01', ?, '2027-01-01T00:00:02.000Z')",
        (dumps(record("tx-1")),),
    )
    db.commit()
    db.close()


async def test_an_older_journal_is_upgraded_with_nothing_pending(tmp_path: Path) -> None:
    path = tmp_path / "j.db"
    write_old_journal(path)
    journal = await SqliteJournal.open(path, WallClock(), outbox=True)
    assert await journal.pending() == []  # written before any broker: kept locally
    assert await journal.transactions() == [record("tx-1")]
    await journal.append_event("L01", "e", {})
    await journal.commit_transaction(record("tx-2"))
    assert await journal.event_seqs("L01") == [1, 2, 3]
    assert [(i.kind, i.key) for i in await journal.pending()][1] == ("transaction", "tx-2")
    await journal.close()
