"""The operator's mode survives a restart of the runtime on a persistent (SQLite) journal:
a lane left in maintenance boots into maintenance (all red, the arms as found, nothing
commanded), one left closed boots closed, one in an emergency boots into the emergency
(all red, both arms opening, alarmed). Real time: the journal writes on its own thread."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from controller.core.events import OperatorCommanded
from controller.core.types import Aspect, LaneState, Mode, Motion, OperatorAction, Role, Side
from controller.journal.sqlite import JournalError, SqliteJournal
from tests.controller.runtime.harness import EmulatedLane
from tests.controller.runtime.test_lane_runtime import state, wait_for

ACTION = {
    Mode.MAINTENANCE: OperatorAction.MODE_MAINTENANCE,
    Mode.CLOSED: OperatorAction.MODE_CLOSED,
    Mode.EMERGENCY: OperatorAction.MODE_EMERGENCY,
}
STATE = {
    Mode.MAINTENANCE: LaneState.MAINTENANCE,
    Mode.CLOSED: LaneState.CLOSED,
    Mode.EMERGENCY: LaneState.EMERGENCY,
}


async def run_until(lane: EmulatedLane, journal: SqliteJournal, wanted: LaneState) -> None:
    lane.runtime.journal = journal
    task = asyncio.create_task(lane.run())
    try:
        await wait_for(lambda: state(lane) == wanted, 5, lane)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def set_mode(lane: EmulatedLane, journal: SqliteJournal, mode: Mode) -> None:
    """Boot a fresh lane, let the technician set `mode`, stop it cleanly."""
    lane.runtime.journal = journal
    task = asyncio.create_task(lane.run())
    try:
        await wait_for(lambda: state(lane) == LaneState.IDLE, 5, lane)
        now = lane.runtime.now()
        ask = OperatorCommanded(now, ACTION[mode], "ofc", Role.OFFICER, True, reason="test")
        lane.runtime.feed(ask)
        await wait_for(lambda: state(lane) == STATE[mode], 5, lane)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


@pytest.mark.parametrize("mode", [Mode.MAINTENANCE, Mode.CLOSED, Mode.EMERGENCY])
async def test_the_mode_survives_a_restart(tmp_path: Path, mode: Mode) -> None:
    path = tmp_path / "journal.db"
    first = await SqliteJournal.open(path, time.time)
    await set_mode(EmulatedLane(), first, mode)
    await first.close()
    again = await SqliteJournal.open(path, time.time)
    try:
        assert await again.load_mode("L01") == mode
        lane = EmulatedLane()
        await run_until(lane, again, STATE[mode])
    finally:
        await again.close()
    core = lane.runtime.core
    assert core is not None
    assert core.lights == (Aspect.RED, Aspect.RED)
    if mode == Mode.MAINTENANCE:  # the arms as found: nothing commanded
        assert core.commanded == {Side.ENTRY: None, Side.EXIT: None}
    if mode == Mode.EMERGENCY:  # the evacuation goes on
        assert core.commanded == {Side.ENTRY: Motion.OPEN, Side.EXIT: Motion.OPEN}
        assert "emergency" in lane.runtime.alarms


async def test_an_unknown_journaled_mode_is_refused(tmp_path: Path) -> None:
    journal = await SqliteJournal.open(tmp_path / "journal.db", time.time)
    try:
        await journal._run(
            lambda: journal._write("INSERT INTO modes VALUES (?, ?)", "L01", "turbo")
        )
        with pytest.raises(JournalError, match=r"modes\.L01: unknown mode 'turbo'"):
            await journal.load_mode("L01")
    finally:
        await journal.close()
