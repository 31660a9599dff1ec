"""Issue 15 on the MQTT contract, additively: a clearance request names the tag, the plate
or both (never neither), a signed decision may name the plate central expects (and may
then lack the tag), the plate is covered by the signature and reaches the lane, and the
transactions topic says how the vehicle was identified."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from controller.bridge.mqtt import transaction_payload
from controller.bridge.payloads import ClearanceRequestPayload, dump
from controller.bridge.reception import Reception
from controller.bridge.verify import Accepted, Reason, Rejection
from controller.core.commands import IdentityCheck, TransactionRecord
from controller.core.types import Decision, Outcome
from controller.journal.codec import dumps, json_object
from controller.journal.sqlite import OutboxItem
from controller.runtime.ports import MemoryJournal, VerifiedDecision
from tests.bridge.signed import Keys, raw

TS = "2027-01-15T08:00:00.000Z"
TAG = "E28011700000020F5A2B3C4D"


def request(**named: object) -> ClearanceRequestPayload:
    return ClearanceRequestPayload.model_validate(
        {"lane": "L01", "request_id": "r1", "ts": TS, **named}
    )


def refusal(**named: object) -> tuple[tuple[int | str, ...], str]:
    with pytest.raises(ValidationError) as raised:
        request(**named)
    first = raised.value.errors()[0]
    return first["loc"], first["msg"]


def test_a_request_names_a_tag_a_plate_or_both_and_omits_what_it_lacks() -> None:
    assert json.loads(dump(request(tag=TAG))) == {
        "schema": "gatebridge.clearance_request/1",
        "lane": "L01",
        "request_id": "r1",
        "tag": TAG,
        "ts": TS,
    }
    by_plate = json.loads(dump(request(plate="29C12345")))
    assert (by_plate["plate"], "tag" in by_plate) == ("29C12345", False)
    both = json.loads(dump(request(tag=TAG, plate="29C12345")))
    assert (both["tag"], both["plate"]) == (TAG, "29C12345")


def test_a_request_naming_neither_or_a_bad_plate_is_refused_by_field() -> None:
    assert refusal() == ((), "tag: missing, and no plate either")
    assert refusal(tag=None, plate=None) == ((), "tag: missing, and no plate either")
    for bad in ("29c12345", "29C-123.45", "ABC", "A" * 11):
        assert refusal(tag=TAG, plate=bad)[0] == ("plate",), bad


async def test_a_decision_s_plate_is_verified_and_reaches_the_lane() -> None:
    keys = Keys()
    desk = Reception(keys.verifier(), MemoryJournal(), ["L01"])
    delivered: list[VerifiedDecision] = []
    desk.expect("L01", "req-1", delivered.append)
    accepted = await desk.receive("decision", "L01", raw(keys.decision(plate="29C12345")))
    assert isinstance(accepted, Accepted)
    assert [(d.decision, d.plate) for d in delivered] == [(Decision.GRANT, "29C12345")]
    desk.expect("L01", "req-2", delivered.append)
    await desk.receive("decision", "L01", raw(keys.decision("req-2")))  # as before issue 15
    assert delivered[-1].plate is None


def without_tag(keys: Keys, signed: dict[str, object]) -> bytes:
    """`signed` re-signed without its tag (a decision on a request by plate alone)."""
    dropped = ("tag", "sig", "key_id")
    return raw(keys.signer.sign({k: v for k, v in signed.items() if k not in dropped}))


async def test_a_decision_by_plate_alone_needs_no_tag_but_one_of_them() -> None:
    keys = Keys()
    verifier = keys.verifier()
    by_plate = without_tag(keys, keys.decision(plate="29C12345"))
    assert isinstance(await verifier.verify("decision", by_plate, "L01", "req-1"), Accepted)
    refused = await verifier.verify("decision", without_tag(keys, keys.decision()), "L01", "req-1")
    assert isinstance(refused, Rejection)
    assert refused.reason == Reason.MALFORMED
    assert refused.detail == "tag: missing, and no plate either"
    bad_plate = keys.decision(plate="29c12345")
    refused = await verifier.verify("decision", raw(bad_plate), "L01", "req-1")
    assert isinstance(refused, Rejection)
    assert refused.reason == Reason.MALFORMED
    assert refused.detail.startswith("plate: ")


async def test_a_plate_added_or_changed_after_signing_breaks_the_signature() -> None:
    keys = Keys()
    verifier = keys.verifier()
    added = {**keys.decision(), "plate": "29C12345"}
    changed = {**keys.decision(plate="29C12345"), "plate": "29C12346"}
    for tampered in (added, changed):
        refused = await verifier.verify("decision", raw(tampered), "L01", "req-1")
        assert isinstance(refused, Rejection)
        assert refused.reason == Reason.BAD_SIGNATURE
    genuine = await verifier.verify(
        "decision", raw(keys.decision(plate="29C12345")), "L01", "req-1"
    )
    assert isinstance(genuine, Accepted)  # the checks have teeth, not a blanket refusal


def transaction(identity: IdentityCheck | None) -> dict[str, object]:
    record = TransactionRecord(
        "0f6c1f0e-5b7a-4c1e-9d3c-2f1a7b8e9c02",
        "L01",
        "req-1",
        TAG,
        Outcome.CLEARED,
        31_200,
        b"\x02w",
        Decision.GRANT,
        31_000,
        "",
        (("decided", 2.0),),
        identity,
    )
    row = OutboxItem(
        "transaction", "L01", record.transaction_id, None, TS, "transaction",
        json_object(dumps(record)),
    )  # fmt: skip
    published: dict[str, object] = json.loads(transaction_payload(row))
    return published


def test_the_transaction_says_how_the_vehicle_was_identified_omitting_what_is_absent() -> None:
    sha = "ab" * 32
    checked = IdentityCheck("tag+plate", "29C12345", 0.93, sha, "29C12345")
    assert transaction(checked)["identity"] == {
        "method": "tag+plate",
        "plate": "29C12345",
        "confidence": 0.93,
        "snapshot_sha256": sha,
        "expected_plate": "29C12345",
    }
    missed = transaction(IdentityCheck("tag_only:missed", expected_plate="29C12345"))
    assert missed["identity"] == {"method": "tag_only:missed", "expected_plate": "29C12345"}
    assert "identity" not in transaction(None)  # a lane without a camera: as before
