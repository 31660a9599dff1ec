"""What the gateway does with a verified or refused message: audit, journal, deliver once,
clock health, officer commands that stay permission (S6, S11)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest

from controller.bridge.payloads import CommandPayload
from controller.bridge.reception import GATEWAY_LANE, Reception
from controller.bridge.verify import Accepted, Reason, Rejection
from controller.central import Central, FileSeqCounter, MemorySeqCounter, in_process_clearance
from controller.clearance import ManifestEntry, manifest_lookup
from controller.core.types import Decision
from controller.maintenance.audit import AuditLog, verify
from controller.runtime.ports import MemoryJournal, VerifiedDecision
from tests.bridge.signed import Clock, Keys, raw


def reception(
    keys: Keys, tmp_path: Path
) -> tuple[Reception, MemoryJournal, list[tuple[str, str, str | None]]]:
    journal, alarms = MemoryJournal(), []
    audit = AuditLog(tmp_path / "audit.log")
    made = Reception(
        keys.verifier(), journal, ["L01", "L02"], audit, on_alarm=lambda *a: alarms.append(a)
    )
    return made, journal, alarms


async def test_a_refused_decision_is_audited_journaled_and_moves_nothing(tmp_path: Path) -> None:
    keys = Keys()
    desk, journal, _ = reception(keys, tmp_path)
    delivered: list[VerifiedDecision] = []
    desk.expect("L01", "req-1", delivered.append)
    tampered = {**keys.decision(), "decision": "deny"}
    result = await desk.receive("decision", "L01", raw(tampered))
    assert isinstance(result, Rejection)
    assert result.reason == Reason.BAD_SIGNATURE
    assert delivered == []
    assert journal.events["L01"][-1][0] == "rejected_message"
    assert journal.events["L01"][-1][1]["reason"] == "bad_signature"
    entries = AuditLog(tmp_path / "audit.log").tail(5)
    assert [e["action"] for e in entries] == ["decision_rejected"]
    assert verify(tmp_path / "audit.log") == (1, None)
    # the request is still outstanding: the genuine decision is accepted afterwards
    assert isinstance(await desk.receive("decision", "L01", raw(keys.decision())), Accepted)
    assert [d.decision for d in delivered] == [Decision.GRANT]


async def test_a_decision_is_delivered_once_and_only_to_its_request(tmp_path: Path) -> None:
    keys = Keys()
    desk, _, _ = reception(keys, tmp_path)
    delivered: list[VerifiedDecision] = []
    desk.expect("L01", "req-1", delivered.append)
    desk.expect("L01", "req-2", delivered.append)  # a new request voids the old one
    old = await desk.receive("decision", "L01", raw(keys.decision("req-1")))
    assert isinstance(old, Rejection)
    assert old.reason == Reason.WRONG_REQUEST
    assert isinstance(await desk.receive("decision", "L01", raw(keys.decision("req-2"))), Accepted)
    again = await desk.receive("decision", "L01", raw(keys.decision("req-2")))
    assert isinstance(again, Rejection)
    assert again.reason == Reason.WRONG_REQUEST
    assert [d.request_id for d in delivered] == ["req-2"]


async def test_a_topic_naming_no_lane_of_ours_is_refused_on_the_gateway(tmp_path: Path) -> None:
    keys = Keys()
    desk, journal, _ = reception(keys, tmp_path)
    result = await desk.receive("decision", "L99", raw(keys.decision(lane="L99")))
    assert isinstance(result, Rejection)
    assert result.reason == Reason.WRONG_LANE
    assert journal.events[GATEWAY_LANE][0][0] == "rejected_message"


async def test_clock_skew_raises_then_clears_the_alarm(tmp_path: Path) -> None:
    keys = Keys()
    desk, _, alarms = reception(keys, tmp_path)
    skewed = keys.decision(
        issued_at="2027-01-15T07:58:00.000Z", expires_at="2027-01-15T09:00:00.000Z"
    )
    await desk.receive("decision", "L01", raw(skewed))
    assert alarms[-1][:2] == ("L01", "clock_skew")
    assert alarms[-1][2] is not None
    await desk.receive("command", "L01", raw(keys.command()))
    assert alarms[-1] == ("L01", "clock_skew", None)


async def test_an_unauthentic_message_says_nothing_about_clock_health(tmp_path: Path) -> None:
    keys = Keys()
    desk, _, alarms = reception(keys, tmp_path)
    forged = {**keys.decision(issued_at="2020-01-01T00:00:00.000Z"), "lane": "L01"}
    forged["sig"] = "AAAA"
    await desk.receive("decision", "L01", raw(forged))
    assert alarms == []


async def test_an_accepted_command_goes_to_the_lane_as_an_officer_operation(tmp_path: Path) -> None:
    keys = Keys()
    desk, _, _ = reception(keys, tmp_path)
    seen: list[CommandPayload] = []

    def operate(command: CommandPayload) -> Mapping[str, object]:
        seen.append(command)
        return {"accepted": False, "refused": "interlock"}

    desk.operate = operate
    assert isinstance(
        await desk.receive("command", "L01", raw(keys.command("release", target="T1"))), Accepted
    )
    assert [(c.command, c.target) for c in seen] == [("release", "T1")]
    entry = AuditLog(tmp_path / "audit.log").tail(1)[0]
    assert entry["action"] == "command_accepted"
    assert entry["outcome"] == {
        "accepted": False,
        "refused": "interlock",
    }


def test_the_signers_seq_survives_a_restart(tmp_path: Path) -> None:
    state = tmp_path / "central.seq.json"
    first = FileSeqCounter(state)
    assert [first.next("L01", "decision") for _ in range(3)] == [1, 2, 3]
    assert FileSeqCounter(state).next("L01", "decision") == 4
    assert FileSeqCounter(state).next("L01", "command") == 1


def test_a_corrupt_seq_state_is_a_clear_error(tmp_path: Path) -> None:
    state = tmp_path / "central.seq.json"
    state.write_text("{not json")
    with pytest.raises(Exception, match=r"state: .*unreadable seq state"):
        FileSeqCounter(state)


async def test_central_denies_unknown_tags_and_signs_what_it_decides() -> None:
    keys = Keys()
    manifest = {
        "E2801170000002AA": ManifestEntry(decision=Decision.INSPECT, declared_gross_kg=9000)
    }
    central = Central.from_manifest(
        manifest, signer=keys.signer, wall_clock=keys.clock, counter=MemorySeqCounter()
    )
    verifier = keys.verifier()
    known = await verifier.verify(
        "decision", raw(central.decide("L01", "r1", "e2801170000002aa")), "L01", "r1"
    )
    unknown = await verifier.verify(
        "decision", raw(central.decide("L01", "r2", "E2801170000002BB")), "L01", "r2"
    )
    assert isinstance(known, Accepted)
    assert isinstance(unknown, Accepted)
    assert known.payload.model_dump()["decision"] == Decision.INSPECT
    assert unknown.payload.model_dump()["decision"] == Decision.DENY


@pytest.mark.looptime
async def test_in_process_clearance_answers_after_its_latency_through_the_verifier() -> None:
    import asyncio

    journal = MemoryJournal()
    manifest = {"E2801170000002AA": ManifestEntry(decision=Decision.GRANT)}
    loop = asyncio.get_running_loop()
    clock = Clock()
    clearance = in_process_clearance(
        manifest_lookup(manifest),
        lanes=["L01"],
        journal=journal,
        wall_clock=lambda: clock.now + loop.time(),
        median_s=3.0,
        seed=1,
    )
    got: asyncio.Queue[VerifiedDecision] = asyncio.Queue()
    start = loop.time()
    clearance.request("L01", "r1", "E2801170000002AA", got.put_nowait)
    decision = await got.get()
    assert decision.decision == Decision.GRANT
    assert decision.request_id == "r1"
    assert 0.5 < loop.time() - start < 20
    assert clearance.reception.accepted == 1
    assert journal.events == {}
