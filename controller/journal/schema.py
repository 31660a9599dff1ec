"""The journal's tables, and bringing an older journal file up to them.

`outbox_order` is one counter across events and transactions: the order rows were
written, which is the order the outbox hands them to the broker. `lane_seqs` holds each
lane's last event seq apart from the events themselves, so pruning every event of a
lane never restarts its seqs (S10: gapless). Partial indexes keep the two hot scans
small: pending rows by outbox order, delivered rows by age.
"""

from __future__ import annotations

import sqlite3

TABLES = """
CREATE TABLE IF NOT EXISTS events (
    lane TEXT NOT NULL, seq INTEGER NOT NULL, event_id TEXT NOT NULL UNIQUE,
    ts TEXT NOT NULL, type TEXT NOT NULL, data TEXT NOT NULL,
    delivered INTEGER NOT NULL DEFAULT 0, outbox_order INTEGER, PRIMARY KEY (lane, seq));
CREATE TABLE IF NOT EXISTS transactions (
    transaction_id TEXT PRIMARY KEY, lane TEXT NOT NULL, record TEXT NOT NULL, ts TEXT NOT NULL,
    delivered INTEGER NOT NULL DEFAULT 0, outbox_order INTEGER);
CREATE TABLE IF NOT EXISTS contexts (lane TEXT PRIMARY KEY, context TEXT);
CREATE TABLE IF NOT EXISTS faults (lane TEXT PRIMARY KEY, reason TEXT);
CREATE TABLE IF NOT EXISTS modes (lane TEXT PRIMARY KEY, mode TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS lane_seqs (lane TEXT PRIMARY KEY, last_seq INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS accepted_seqs (
    lane TEXT NOT NULL, key_id TEXT NOT NULL, kind TEXT NOT NULL, seq INTEGER NOT NULL,
    PRIMARY KEY (lane, key_id, kind));
"""
INDEXES = """
CREATE INDEX IF NOT EXISTS events_pending ON events (outbox_order) WHERE delivered = 0;
CREATE INDEX IF NOT EXISTS transactions_pending ON transactions (outbox_order) WHERE delivered = 0;
CREATE INDEX IF NOT EXISTS events_delivered ON events (ts) WHERE delivered = 1;
CREATE INDEX IF NOT EXISTS transactions_delivered ON transactions (ts) WHERE delivered = 1;
"""
# Brings lane_seqs up to the events (a file written before lane_seqs existed); never down.
SYNC_LANE_SEQS = """
INSERT INTO lane_seqs SELECT lane, MAX(seq) FROM events WHERE true GROUP BY lane
ON CONFLICT (lane) DO UPDATE SET last_seq = MAX(last_seq, excluded.last_seq)
"""


def create(db: sqlite3.Connection) -> None:
    """Create or upgrade the schema, in one transaction: a crash leaves the old or the new."""
    with db:
        db.execute("BEGIN IMMEDIATE")
        for statement in _statements(TABLES):
            db.execute(statement)
        _migrate(db)
        for statement in _statements(INDEXES):
            db.execute(statement)
        db.execute(SYNC_LANE_SEQS)


def _migrate(db: sqlite3.Connection) -> None:
    # The journal before the outbox had no bridge: nothing it wrote is waiting for a broker.
    if "outbox_order" not in columns(db, "events"):
        db.execute("ALTER TABLE events ADD COLUMN outbox_order INTEGER")
        db.execute("UPDATE events SET delivered = 1")
    if "delivered" not in columns(db, "transactions"):
        db.execute("ALTER TABLE transactions ADD COLUMN delivered INTEGER NOT NULL DEFAULT 0")
        db.execute("ALTER TABLE transactions ADD COLUMN outbox_order INTEGER")
        db.execute("UPDATE transactions SET delivered = 1")


def columns(db: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in db.execute(f"PRAGMA table_info({table})")}


def usage_bytes(db: sqlite3.Connection) -> int:
    """Bytes the journal's pages hold: free pages are left out, new rows reuse them."""
    (pages,) = db.execute("PRAGMA page_count").fetchone()
    (free,) = db.execute("PRAGMA freelist_count").fetchone()
    (size,) = db.execute("PRAGMA page_size").fetchone()
    return int((pages - free) * size)


def _statements(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]
