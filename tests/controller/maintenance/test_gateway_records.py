"""What the gateway keeps and answers (issue 17 items 10 and 11): events with the identity
the journal gave them, audit entries with a time and the outcome, a wall time beside
every monotonic one, and an unknown lane answered as a usage error, not audited."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from controller.bridge.mqtt import transaction_payload
from controller.bridge.payloads import stage_walltimes
from controller.core.commands import TransactionRecord
from controller.core.types import Decision, LaneState, OperatorAction, Outcome, Role, Side
from controller.journal.sqlite import SqliteJournal
from controller.maintenance.audit import AuditLog
from controller.maintenance.protocol import BarrierRequest, ModeRequest, parse_request
from controller.maintenance.server import Caller, MaintenanceServer, Operation
from controller.runtime.gateway import Gateway
from controller.runtime.wallclock import WallClock
from tests.controller.runtime.harness import EmulatedLane

OFFICER = Caller(pid=1, uid=0, user="root", role=Role.OFFICER)
EPOCH = 1_800_000_000.0  # 2027-01-15T08:00:00Z


async def _idle(lane: EmulatedLane) -> None:
    async with asyncio.timeout(10):
        await lane.stepped.wait_until(
            lambda: lane.runtime.core is not None and lane.runtime.core.state == LaneState.IDLE
        )


@pytest.mark.looptime
async def test_the_gateways_events_keep_the_journals_seq_and_event_id() -> None:
    lane = EmulatedLane()
    gateway = Gateway([lane.runtime])
    task = asyncio.create_task(lane.run())
    try:
        await _idle(lane)
        await asyncio.sleep(0.5)  # virtual: the journal writer catches up
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    recent = gateway.recent_events(100)
    assert recent, "the lane journaled its boot"
    assert [e["seq"] for e in recent] == list(range(1, len(recent) + 1))  # gapless, in order
    assert len({e["event_id"] for e in recent}) == len(recent)
    assert all("ts" in e and e["lane"] == "L01" for e in recent)


async def test_the_sqlite_journal_says_what_it_gave_an_event(tmp_path: Path) -> None:
    journal = await SqliteJournal.open(tmp_path / "j.db", lambda: EPOCH)
    first = await journal.append_event("L01", "e", {})
    second = await journal.append_event("L01", "e", {})
    await journal.close()
    assert (first.seq, second.seq) == (1, 2)
    assert first.ts == "2027-01-15T08:00:00.000Z"
    assert first.event_id != second.event_id


@pytest.mark.looptime(start=5000.0)
async def test_status_shows_the_wall_time_of_each_devices_last_good_data() -> None:
    lane = EmulatedLane()
    loop = asyncio.get_running_loop()
    lane.runtime.wall = WallClock(lambda: EPOCH + loop.time() - 5000.0, lane.runtime.now)
    task = asyncio.create_task(lane.run())
    try:
        await _idle(lane)
        devices = lane.runtime.snapshot()["devices"]
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert isinstance(devices, dict)
    io = devices["io"]
    assert isinstance(io["last_ok"], float)  # the monotonic one is kept
    assert io["last_ok_at"] == WallClock(lambda: EPOCH, lambda: 5000.0).at(io["last_ok"])
    assert str(io["last_ok_at"]).startswith("2027-01-15T08:00:0")


def test_stage_walltimes_are_placed_from_the_commit_time() -> None:
    stages = {"approach": 100.0, "decided": 130.5, "weighed": 128.25}
    walls = stage_walltimes(stages, "2027-01-15T08:00:00.000Z")
    assert walls == {
        "approach": "2027-01-15T07:59:29.500Z",
        "decided": "2027-01-15T08:00:00.000Z",
        "weighed": "2027-01-15T07:59:57.750Z",
    }
    assert stage_walltimes({}, "2027-01-15T08:00:00.000Z") == {}


@pytest.mark.looptime
async def test_audit_entries_carry_a_time_and_what_the_lane_answered(tmp_path: Path) -> None:
    lane = EmulatedLane()
    gateway = Gateway([lane.runtime])
    audit = AuditLog(tmp_path / "audit.log", wall_clock=lambda: EPOCH)
    server = MaintenanceServer(tmp_path / "s", gateway, audit, {})
    task = asyncio.create_task(lane.run())
    try:
        await _idle(lane)
        refused = server.handle(
            BarrierRequest(op="barrier", lane="L01", side="entry", action="open"), OFFICER
        )
        accepted = server.handle(ModeRequest(op="mode", lane="L01", mode="maintenance"), OFFICER)
        unknown = server.handle(ModeRequest(op="mode", lane="L99", mode="closed"), OFFICER)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert (refused.ok, refused.kind) == (False, "refused")
    assert (accepted.ok, accepted.kind) == (True, "ok")
    assert (unknown.ok, unknown.kind) == (False, "usage")
    assert "L99" in unknown.error
    lines = [json.loads(line) for line in audit.path.read_text().splitlines()]
    assert [e["action"] for e in lines] == ["barrier_open", "mode_maintenance"]  # not L99
    assert lines[0]["outcome"].startswith("refused: ")
    assert lines[1]["outcome"] == "accepted"
    assert {e["ts"] for e in lines} == {"2027-01-15T08:00:00.000Z"}


def test_an_unknown_lane_is_a_usage_error_naming_the_lanes() -> None:
    answer = Gateway([]).operate(Operation("L99", OperatorAction.BARRIER_OPEN, Side.ENTRY), OFFICER)
    assert answer["kind"] == "usage"
    assert "no lane 'L99'" in str(answer["refused"])


def test_an_emergency_needs_a_reason_on_the_socket_too() -> None:
    bare = parse_request(b'{"op": "mode", "lane": "L01", "mode": "emergency"}')
    assert isinstance(bare, str)
    assert "reason" in bare
    given = b'{"op": "mode", "lane": "L01", "mode": "emergency", "reason": "fire on deck"}'
    assert isinstance(parse_request(given), ModeRequest)


async def test_a_published_transaction_carries_stage_walltimes(tmp_path: Path) -> None:
    journal = await SqliteJournal.open(tmp_path / "j.db", lambda: EPOCH, outbox=True)
    record = TransactionRecord(
        transaction_id="tx-1",
        lane="L01",
        request_id="r-1",
        tag="E200",
        outcome=Outcome.CLEARED,
        gross_kg=24_500,
        raw_frame=b"frame",
        decision=Decision.GRANT,
        declared_gross_kg=None,
        reason="",
        stage_times=(("approach", 5000.0), ("weighed", 5031.0), ("decided", 5031.5)),
    )
    await journal.commit_transaction(record)
    (row,) = [r for r in await journal.pending() if r.key == "tx-1"]
    await journal.close()
    body = json.loads(transaction_payload(row))
    assert body["stage_times"] == {"approach": 5000.0, "weighed": 5031.0, "decided": 5031.5}
    assert body["stage_walltimes"] == {
        "approach": "2027-01-15T07:59:28.500Z",
        "weighed": "2027-01-15T07:59:59.500Z",
        "decided": "2027-01-15T08:00:00.000Z",
    }
