"""The in-memory journal keeps every event by default (tests read them back) and, when
asked, only about the last N of each lane while counting all (a simulated day)."""

from __future__ import annotations

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
