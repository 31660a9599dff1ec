"""The in-memory journal keeps every event and transaction by default (tests read them
back) and, when asked, only about the last N while counting all (a simulated day)."""

from __future__ import annotations

import pytest

from controller.core.commands import TransactionRecord
from controller.core.types import Decision, Outcome
from controller.runtime.ports import MemoryJournal


async def test_a_bounded_journal_keeps_the_newest_events_and_counts_all() -> None:
    journal = MemoryJournal(keep_events=100)
    for index in range(10_000):
        await journal.append_event("L01", "tick", {"n": index})
    kept = journal.events["L01"]
    assert 100 <= len(kept) < 200
    assert kept[-1] == ("tick", {"n": 9_999})
    assert [d["n"] for _, d in kept] == list(range(10_000 - len(kept), 10_000))
    assert journal.event_count == 10_000


async def test_an_unbounded_journal_keeps_everything() -> None:
    journal = MemoryJournal()
    for index in range(1_000):
        await journal.append_event("L01", "tick", {"n": index})
    assert len(journal.events["L01"]) == 1_000


def record(n: int, tag: str | None = None) -> TransactionRecord:
    return TransactionRecord(
        transaction_id=f"tx-{n}",
        lane="L01",
        request_id=f"rq-{n}",
        tag=tag,
        outcome=Outcome.CLEARED,
        gross_kg=20_000 + n,
        raw_frame=b"",
        decision=Decision.GRANT,
        declared_gross_kg=None,
        reason="",
        stage_times=(("decided", float(n)),),
    )


async def test_a_bounded_journal_keeps_the_newest_transactions_and_hears_each_once() -> None:
    heard: list[str] = []
    journal = MemoryJournal(keep_transactions=10)
    journal.on_commit.append(lambda r: heard.append(r.transaction_id))
    for n in range(1_000):
        await journal.commit_transaction(record(n))
        await journal.commit_transaction(record(n))  # a retry: no news
    kept = list(journal.transactions)
    assert 10 <= len(kept) < 20
    assert kept == [f"tx-{n}" for n in range(1_000 - len(kept), 1_000)]
    assert journal.transaction_count == 1_000
    assert heard == [f"tx-{n}" for n in range(1_000)]


async def test_a_transaction_committed_again_differently_is_refused() -> None:
    journal = MemoryJournal()
    await journal.commit_transaction(record(1))
    with pytest.raises(ValueError, match="tx-1: committed twice"):
        await journal.commit_transaction(record(1, tag="E2801100"))
    assert journal.transactions["tx-1"] == record(1)
    assert journal.transaction_count == 1


def test_a_bound_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="keep_events: must be at least 1"):
        MemoryJournal(keep_events=0)
    with pytest.raises(ValueError, match="keep_transactions: must be at least 1"):
        MemoryJournal(keep_transactions=0)
