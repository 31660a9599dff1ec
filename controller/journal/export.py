"""Export the journal as JSON Lines, read-only, beside a running controller.

The file is opened with `mode=ro`, so an export can neither write nor take the write
lock: with WAL, the lanes keep writing while it reads one consistent snapshot. A file
from before the outbox (schema.py) is exported as it stands, its rows counted delivered.
Rows come in the order they were written (`outbox_order`; older rows, which lack it,
first by time).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

from controller.journal.codec import json_object, normalized_ts
from controller.journal.schema import columns
from controller.journal.sqlite import JournalError

_ROWS = """
SELECT * FROM (
    SELECT 'event' AS kind, lane, seq, event_id AS key, ts, type, data,
           {e_delivered} AS delivered, {e_order} AS outbox_order, rowid AS r FROM events
    UNION ALL
    SELECT 'transaction', lane, NULL, transaction_id, ts, 'transaction', record, {t_delivered},
           {t_order}, rowid FROM transactions)
WHERE (:lane IS NULL OR lane = :lane) AND (:since IS NULL OR ts >= :since)
ORDER BY outbox_order, ts, kind, r
"""


def export_jsonl(path_db: Path, out: TextIO, *, lane: str | None, since: str | None) -> int:
    """Write the journal's events and transactions to `out`, one JSON object a line; only
    `lane`'s when given, only those at or after `since` (RFC 3339) when given."""
    try:
        since_ts = None if since is None else normalized_ts(since)
    except ValueError as error:
        raise JournalError(f"since {since!r}: not an RFC 3339 time ({error})") from None
    count = 0
    for line in _lines(path_db, lane, since_ts):
        out.write(line + "\n")
        count += 1
    return count


def _lines(path_db: Path, lane: str | None, since: str | None) -> Iterator[str]:
    db = _open_read_only(path_db)
    try:
        for row in db.execute(_query(db), {"lane": lane, "since": since}):
            yield json.dumps(_obj(row), ensure_ascii=False, separators=(",", ":"))
    except sqlite3.Error as error:
        raise JournalError(f"{path_db}: cannot read the journal: {error}") from error
    finally:
        db.close()


def _open_read_only(path_db: Path) -> sqlite3.Connection:
    if not path_db.is_file():
        raise JournalError(f"{path_db}: no journal file there")
    try:
        db = sqlite3.connect(f"{path_db.resolve().as_uri()}?mode=ro", uri=True)
        db.execute("PRAGMA busy_timeout=5000")
        return db
    except sqlite3.Error as error:
        raise JournalError(f"{path_db}: cannot open the journal read-only: {error}") from error


def _query(db: sqlite3.Connection) -> str:
    # a table the outbox never upgraded: what it holds was kept locally, never pending
    events, transactions = columns(db, "events"), columns(db, "transactions")
    old_events, old_transactions = "outbox_order" not in events, "delivered" not in transactions
    return _ROWS.format(
        e_delivered="1" if old_events else "delivered",
        e_order="NULL" if old_events else "outbox_order",
        t_delivered="1" if old_transactions else "delivered",
        t_order="NULL" if old_transactions else "outbox_order",
    )


def _obj(row: Any) -> dict[str, object]:
    kind, lane, seq, key, ts, type_, data, delivered, _order, _rowid = row
    if kind == "event":
        return {
            "kind": kind,
            "lane": lane,
            "seq": seq,
            "event_id": key,
            "ts": ts,
            "type": type_,
            "data": json_object(data),
            "delivered": bool(delivered),
        }
    return {
        "kind": kind,
        "lane": lane,
        "transaction_id": key,
        "ts": ts,
        "record": json_object(data),
        "delivered": bool(delivered),
    }
