"""Export: JSON Lines anyone can parse, filtered by lane and time, read-only beside a
writer that is mid-transaction, and from a file the outbox never upgraded."""

from __future__ import annotations

import io
import json
import sqlite3
from pathlib import Path

import pytest

from controller.journal.export import export_jsonl
from controller.journal.sqlite import JournalError, SqliteJournal
from tests.controller.journal.helpers import WallClock, record
from tests.controller.journal.test_retention import write_old_journal


async def a_journal(path: Path) -> SqliteJournal:
    """L01: event 1, tx-1, event 2 an hour later; L02: event 1 in between."""
    clock = WallClock()
    journal = await SqliteJournal.open(path, clock, outbox=True)
    await journal.append_event("L01", "vehicle_admitted", {"tag": "E1", "note": "Đồng Đăng"})
    await journal.commit_transaction(record("tx-1"))
    clock.now += 1800
    await journal.append_event("L02", "alarm", {"code": "x"})
    clock.now += 1800
    await journal.append_event("L01", "vehicle_left", {})
    await journal.mark_delivered([(await journal.pending())[0].key])
    return journal


def exported(path: Path, lane: str | None = None, since: str | None = None) -> list[dict]:  # type: ignore[type-arg]
    out = io.StringIO()
    count = export_jsonl(path, out, lane=lane, since=since)
    lines = out.getvalue().splitlines()
    assert count == len(lines)
    return [json.loads(line) for line in lines]


async def test_export_writes_one_parseable_object_a_line_in_written_order(
    tmp_path: Path,
) -> None:
    path = tmp_path / "j.db"
    journal = await a_journal(path)
    rows = exported(path)
    assert [(r["kind"], r["lane"], r.get("seq")) for r in rows] == [
        ("event", "L01", 1),
        ("transaction", "L01", None),
        ("event", "L02", 1),
        ("event", "L01", 2),
    ]
    first, tx = rows[0], rows[1]
    assert set(first) == {"kind", "lane", "seq", "event_id", "ts", "type", "data", "delivered"}
    assert first["data"] == {"tag": "E1", "note": "Đồng Đăng"}
    assert first["ts"] == "2027-01-15T08:00:00.000Z"
    assert [r["delivered"] for r in rows] == [True, False, False, False]
    assert tx["transaction_id"] == "tx-1"
    assert tx["record"]["gross_kg"] == 24500
    assert [r["lane"] for r in exported(path, lane="L02")] == ["L02"]
    assert [r.get("seq") for r in exported(path, since="2027-01-15T08:30:00Z")] == [1, 2]
    assert [r["lane"] for r in exported(path, lane="L01", since="2027-01-15T10:00:00+01:00")] == [
        "L01"
    ]  # that is 09:00 UTC: the last L01 event, at exactly that time, is included
    assert exported(path, since="2028-01-01") == []
    await journal.close()


async def test_export_reads_beside_a_writer_holding_the_write_lock(tmp_path: Path) -> None:
    path = tmp_path / "j.db"
    journal = await a_journal(path)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    other.execute(
        "INSERT INTO events (lane, seq, event_id, ts, type, data) "
        "VALUES ('L09', 1, 'uncommitted', 'x', 'e', '{}')"
    )
    assert len(exported(path)) == 4  # neither blocked nor shown the uncommitted row
    other.execute("ROLLBACK")
    other.close()
    await journal.append_event("L01", "after_export", {})  # the export left no lock behind
    assert exported(path)[-1]["type"] == "after_export"
    await journal.close()


def test_export_of_a_file_the_outbox_never_upgraded(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    write_old_journal(path)
    rows = exported(path)
    assert [(r["kind"], r["delivered"]) for r in rows] == [
        ("event", True),
        ("event", True),
        ("transaction", True),
    ]
    # read-only: the old file was not upgraded by the export
    columns = {r[1] for r in sqlite3.connect(path).execute("PRAGMA table_info(transactions)")}
    assert "delivered" not in columns


def test_export_errors_name_the_problem(tmp_path: Path) -> None:
    with pytest.raises(JournalError, match="no journal file"):
        export_jsonl(tmp_path / "missing.db", io.StringIO(), lane=None, since=None)
    (tmp_path / "junk.db").write_text("not a database " * 100)
    with pytest.raises(JournalError, match="cannot read the journal"):
        export_jsonl(tmp_path / "junk.db", io.StringIO(), lane=None, since=None)
    write_old_journal(tmp_path / "old.db")
    with pytest.raises(JournalError, match="since 'last week'"):
        export_jsonl(tmp_path / "old.db", io.StringIO(), lane=None, since="last week")
