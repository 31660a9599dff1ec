"""Standalone `gatectl run` (no broker): the in-process central across a restart, and the
alarm a run of replay rejections raises (issue 17 item 4).

The journal is the real SQLite one on disk, as `run` opens it, so these run in real time
(its writes go to a worker thread); every wait is on a condition with a timeout.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import yaml

from controller.bridge.reception import REPLAY_ALARM_AFTER
from controller.bridge.verify import MemorySeqStore
from controller.central import (
    IN_PROCESS_KEY_ID,
    InProcessClearance,
    MemorySeqCounter,
    in_process_clearance,
)
from controller.cli.run import central_seq_state, standalone_clearance
from controller.config.load import validate
from controller.config.models import GatewayConfig
from controller.core.commands import PublishEvent
from controller.core.types import Decision
from controller.journal.sqlite import SqliteJournal
from controller.maintenance.audit import AuditLog
from controller.runtime.gateway import Gateway
from controller.runtime.ports import MemoryJournal, VerifiedDecision
from tests.controller.runtime.harness import EmulatedLane

ROOT = Path(__file__).resolve().parents[3]
GRANTED_TAG = "E28011000000000000000001"


def config(tmp: Path) -> GatewayConfig:
    document = yaml.safe_load((ROOT / "deploy/examples/emulated-lane.yaml").read_text())
    document.update(journal=str(tmp / "journal.db"), socket=str(tmp / "gatectl.sock"))
    document["clearance"]["manifest"] = str(ROOT / "deploy/examples/manifest.yaml")
    return validate(document)


async def decide_once(settings: GatewayConfig, request_id: str) -> None:
    """One run of `run`, as far as clearance goes: open the journal, ask the in-process
    central once, close. The decision must be accepted and delivered."""
    journal = await SqliteJournal.open(settings.journal, lambda: 0.0, outbox=False)
    decisions: list[VerifiedDecision] = []
    try:
        clearance = await standalone_clearance(
            settings, journal, AuditLog(settings.journal.parent / "a")
        )
        clearance.request("L01", request_id, GRANTED_TAG, decisions.append)
        async with asyncio.timeout(5):
            await asyncio.wait(set(clearance._tasks))  # the answer: verified or refused
        rejected = clearance.reception.rejected
    finally:
        await journal.close()
    assert rejected == {}
    assert [d.decision for d in decisions] == [Decision.GRANT]


async def test_the_first_decision_after_a_restart_is_accepted(tmp_path: Path) -> None:
    settings = config(tmp_path)
    for n in range(3):
        await decide_once(settings, f"req-before-{n}")
    # a restart: a new process, a new in-memory signing key, the same state directory
    await decide_once(settings, "req-after-restart")
    assert json.loads(central_seq_state(settings).read_text()) == {"L01/decision": 4}


async def test_a_lost_seq_state_file_is_floored_at_the_accepted_seqs(tmp_path: Path) -> None:
    """An upgrade from a version that kept no state, or a lost file: the journal's last
    accepted seq is the floor, so the next decision is still accepted."""
    settings = config(tmp_path)
    for n in range(2):
        await decide_once(settings, f"req-{n}")
    central_seq_state(settings).unlink()
    await decide_once(settings, "req-after-loss")
    assert json.loads(central_seq_state(settings).read_text()) == {"L01/decision": 3}


async def test_replayed_decisions_in_a_row_raise_an_alarm_that_clears() -> None:
    """The alarm shows in status and as an event (what `gatectl status` and `gatectl
    events` read), and clears when a decision is accepted again."""
    runtime = EmulatedLane().runtime
    gateway = Gateway([runtime])
    published: list[PublishEvent] = []  # what the lane journals (and `gatectl events` shows)
    runtime.listeners.append(lambda _lane, event: published.append(event))
    central = _central_with_stale_seq()
    central.reception.on_alarm = gateway.set_alarm

    async def ask(request_id: str) -> None:
        central.request("L01", request_id, GRANTED_TAG, lambda _decision: None)
        async with asyncio.timeout(5):
            await asyncio.wait(set(central._tasks))

    for n in range(REPLAY_ALARM_AFTER - 1):
        await ask(f"req-{n}")
    assert "clearance_replay_rejected" not in _alarms(gateway)
    await ask("req-third")
    assert "replayed" in str(_alarms(gateway)["clearance_replay_rejected"])
    await ask("req-fourth")  # still standing: one event, not one per rejection
    raised = [e for e in published if e.type == "alarm"]
    assert [e.data["code"] for e in raised] == ["clearance_replay_rejected"]
    central.central.counter.next("L01", "decision")  # the signer catches up: seq 6 > 5
    await ask("req-accepted")
    assert "clearance_replay_rejected" not in _alarms(gateway)
    assert published[-1].type == "alarm_cleared"


def _central_with_stale_seq() -> InProcessClearance:
    """A gateway that accepted seq 5 from a central that starts again at 1."""
    seqs = MemorySeqStore({("L01", IN_PROCESS_KEY_ID, "decision"): 5})
    made = in_process_clearance(
        lambda _tag, _plate: None,
        lanes=["L01"],
        journal=MemoryJournal(),
        wall_clock=lambda: 1e9,
        median_s=0.0,
        seqs=seqs,
    )
    assert isinstance(made.central.counter, MemorySeqCounter)  # starts at 1: replayed
    return made


def _alarms(gateway: Gateway) -> dict[str, object]:
    lanes = gateway.status()["lanes"]
    assert isinstance(lanes, list)
    alarms = lanes[0]["alarms"]
    assert isinstance(alarms, dict)
    return alarms
