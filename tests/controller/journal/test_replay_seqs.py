"""S6's persisted replay state: a seq is accepted only strictly above the last accepted
for its (lane, key_id, kind), atomically, and the last accepted survives a reopen."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from controller.journal.sqlite import SqliteJournal
from tests.controller.journal.helpers import WallClock


async def test_seqs_are_accepted_only_strictly_upwards_and_survive_a_reopen(
    tmp_path: Path,
) -> None:
    path = tmp_path / "j.db"
    journal = await SqliteJournal.open(path, WallClock())
    assert await journal.last_accepted_seq("L01", "central", "decision") == 0
    assert not await journal.accept_seq("L01", "central", "decision", 0)
    assert await journal.accept_seq("L01", "central", "decision", 5)
    assert not await journal.accept_seq("L01", "central", "decision", 5)  # a replay
    assert not await journal.accept_seq("L01", "central", "decision", 4)
    assert await journal.accept_seq("L01", "central", "decision", 9)  # gaps are fine
    # each (lane, key_id, kind) counts on its own
    assert await journal.accept_seq("L01", "central", "command", 1)
    assert await journal.accept_seq("L02", "central", "decision", 1)
    assert await journal.accept_seq("L01", "central-2", "decision", 1)
    await journal.close()

    again = await SqliteJournal.open(path, WallClock())
    assert await again.last_accepted_seq("L01", "central", "decision") == 9
    assert await again.last_accepted_seq("L01", "central", "command") == 1
    assert not await again.accept_seq("L01", "central", "decision", 9)
    assert await again.accept_seq("L01", "central", "decision", 10)
    await again.close()


async def test_one_of_many_concurrent_copies_is_accepted(tmp_path: Path) -> None:
    journal = await SqliteJournal.open(tmp_path / "j.db", WallClock())
    results = await asyncio.gather(
        *(journal.accept_seq("L01", "k", "command", 7) for _ in range(20))
    )
    assert results.count(True) == 1
    await journal.close()


async def test_an_unknown_kind_is_a_programming_error(tmp_path: Path) -> None:
    journal = await SqliteJournal.open(tmp_path / "j.db", WallClock())
    with pytest.raises(ValueError, match="seq kind 'decisions'"):
        await journal.accept_seq("L01", "k", "decisions", 1)
    await journal.close()
