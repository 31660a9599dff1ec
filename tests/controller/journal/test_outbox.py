"""The outbox: one written order across events and transactions, delivery marks that
survive a reopen, and no broker meaning nothing pending."""

from __future__ import annotations

import asyncio
from pathlib import Path

from controller.journal.sqlite import OutboxItem, SqliteJournal
from tests.controller.journal.helpers import WallClock, record


def summary(items: list[OutboxItem]) -> list[tuple[str, str, int | None, str]]:
    return [(i.kind, i.lane, i.seq, i.type) for i in items]


async def test_pending_keeps_the_written_order_across_kinds_and_lanes(tmp_path: Path) -> None:
    journal = await SqliteJournal.open(tmp_path / "j.db", WallClock(), outbox=True)
    await journal.append_event("L01", "vehicle_admitted", {"tag": "E1"})
    await journal.append_event("L02", "alarm", {"code": "x"})
    await journal.commit_transaction(record("tx-1"))
    await journal.append_event("L01", "transaction_committed", {"transaction_id": "tx-1"})
    items = await journal.pending()
    assert summary(items) == [
        ("event", "L01", 1, "vehicle_admitted"),
        ("event", "L02", 1, "alarm"),
        ("transaction", "L01", None, "transaction"),
        ("event", "L01", 2, "transaction_committed"),
    ]
    assert items[0].data == {"tag": "E1"}
    assert items[0].ts == "2027-01-15T08:00:00.000Z"
    assert items[2].key == "tx-1"
    assert items[2].data["transaction_id"] == "tx-1"
    assert items[2].data["outcome"] == "cleared"
    assert items[2].data["raw_frame"] == "0266"
    assert len({i.key for i in items}) == 4
    assert summary(await journal.pending(limit=2)) == summary(items[:2])
    assert await journal.pending_count() == 4
    await journal.close()


async def test_concurrent_writes_keep_each_lanes_seq_order(tmp_path: Path) -> None:
    journal = await SqliteJournal.open(tmp_path / "j.db", WallClock(), outbox=True)
    await asyncio.gather(
        *(journal.append_event(f"L0{i % 3}", "e", {"i": i}) for i in range(60)),
        *(journal.commit_transaction(record(f"tx-{i}")) for i in range(10)),
    )
    items = await journal.pending(limit=1000)
    assert len(items) == 70
    for lane in ("L00", "L01", "L02"):
        assert [i.seq for i in items if i.lane == lane and i.kind == "event"] == list(range(1, 21))
    await journal.close()


async def test_delivered_items_leave_the_outbox_for_good(tmp_path: Path) -> None:
    path = tmp_path / "j.db"
    journal = await SqliteJournal.open(path, WallClock(), outbox=True)
    for n in range(3):
        await journal.append_event("L01", "e", {"n": n})
        await journal.commit_transaction(record(f"tx-{n}"))
    first = await journal.pending()
    await journal.mark_delivered([first[0].key, first[1].key, "no-such-key"])
    await journal.mark_delivered([first[0].key])  # a PUBACK may come twice
    assert [i.key for i in await journal.pending()] == [i.key for i in first[2:]]
    assert await journal.pending_count() == 4
    await journal.close()

    again = await SqliteJournal.open(path, WallClock(), outbox=True)
    assert [i.key for i in await again.pending()] == [i.key for i in first[2:]]
    await again.append_event("L01", "after_reopen", {})
    later = await again.pending()
    assert later[-1].type == "after_reopen"
    assert later[-1].seq == 4
    await again.mark_delivered([i.key for i in later])
    assert await again.pending() == []
    assert await again.pending_count() == 0
    await again.close()


async def test_without_a_broker_nothing_is_pending(tmp_path: Path) -> None:
    journal = await SqliteJournal.open(tmp_path / "j.db", WallClock())
    await journal.append_event("L01", "e", {})
    await journal.commit_transaction(record("tx-1"))
    assert await journal.pending() == []
    assert await journal.pending_count() == 0
    last = await journal.last_event("L01")
    assert last is not None
    assert (last.kind, last.seq, last.type) == ("event", 1, "e")
    assert await journal.last_event("L09") is None
    await journal.close()
