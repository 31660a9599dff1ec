"""Retention: deleting delivered records, oldest first, a batch per SQL transaction.

Only rows with `delivered = 1` are candidates: a pending row is never dropped (DESIGN 6).
Neither is the transaction of the vehicle on the deck (its context names it), nor
anything outside the events and transactions tables (contexts, faults, seqs). A batch is
every delivered row up to the `ts` of the BATCH-th oldest one, across both kinds, so
events and transactions age out together.
"""

from __future__ import annotations

import sqlite3

BATCH = 500

_BOUNDARY = """
SELECT MAX(ts) FROM (
    SELECT ts FROM events WHERE delivered = 1
    UNION ALL SELECT ts FROM transactions WHERE delivered = 1
    ORDER BY ts LIMIT ?)
"""
_DELETE_EVENTS = "DELETE FROM events WHERE delivered = 1 AND ts <= ? AND ts < ?"
_DELETE_TRANSACTIONS = """
DELETE FROM transactions WHERE delivered = 1 AND ts <= ? AND ts < ?
AND transaction_id NOT IN (
    SELECT json_extract(context, '$.transaction_id') FROM contexts
    WHERE json_extract(context, '$.transaction_id') IS NOT NULL)
"""
NO_CUTOFF = "~"  # sorts after every RFC 3339 time: no age limit


def delete_batch(db: sqlite3.Connection, older_than: str) -> int:
    """Delete the oldest batch of delivered rows, only those with `ts < older_than`;
    returns how many went (0: nothing left to delete under that cutoff)."""
    with db:
        db.execute("BEGIN IMMEDIATE")
        (boundary,) = db.execute(_BOUNDARY, (BATCH,)).fetchone()
        if boundary is None:
            return 0
        deleted = db.execute(_DELETE_EVENTS, (boundary, older_than)).rowcount
        deleted += db.execute(_DELETE_TRANSACTIONS, (boundary, older_than)).rowcount
    return int(deleted)


def release_free_pages(db: sqlite3.Connection) -> None:
    """Give freed pages back to the file system (a no-op on files made before
    auto_vacuum was set: their free pages are reused by new rows instead). With WAL the
    file shrinks at a checkpoint: a passive one, which never waits for a reader."""
    db.execute("PRAGMA incremental_vacuum").fetchall()
    db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
