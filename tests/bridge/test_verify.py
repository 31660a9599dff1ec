"""S6 on the verifier: every way a decision or command can be wrong is refused, by name,
and a valid one right after the bad ones is still accepted (the checks have teeth)."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from controller.bridge.signing import Signer, canonical_json
from controller.bridge.verify import Accepted, Reason, Rejection, Verifier
from tests.bridge.signed import Keys, raw


async def verdict(
    verifier: Verifier, message: bytes, outstanding: str | None = "req-1"
) -> Reason | None:
    result = await verifier.verify("decision", message, "L01", outstanding)
    return None if isinstance(result, Accepted) else result.reason


async def test_a_valid_decision_is_accepted_with_its_fields() -> None:
    keys = Keys()
    result = await keys.verifier().verify("decision", raw(keys.decision()), "L01", "req-1")
    assert isinstance(result, Accepted)
    assert result.payload.model_dump(by_alias=True)["declared_gross_kg"] == 32_000


async def test_each_bad_decision_is_refused_for_its_own_reason_then_a_good_one_passes() -> None:
    keys = Keys()
    verifier = keys.verifier()
    good = keys.decision()
    tampered = {**good, "decision": "deny"}
    added = {**good, "note": "x"}
    forged = Signer.generate("central-2026").sign(
        {k: v for k, v in keys.decision().items() if k not in ("sig", "key_id")}
    )
    unsigned = {k: v for k, v in keys.decision().items() if k != "sig"}
    revoked = Signer.generate("central-2025").sign({"schema": "gatebridge.decision/1"})
    expired = keys.decision(
        expires_at="2020-01-01T00:00:00.000Z", issued_at="2019-12-31T23:59:00.000Z"
    )
    future = keys.decision(
        issued_at="2030-01-01T00:00:00.000Z", expires_at="2030-01-01T00:01:00.000Z"
    )
    cases = [
        (tampered, Reason.BAD_SIGNATURE),
        (added, Reason.BAD_SIGNATURE),
        (forged, Reason.BAD_SIGNATURE),
        (unsigned, Reason.UNSIGNED),
        (revoked, Reason.UNKNOWN_KEY),
        (expired, Reason.EXPIRED),
        (future, Reason.NOT_YET_VALID),
        (keys.decision(lane="L02"), Reason.WRONG_LANE),
        (keys.decision(request_id="req-0"), Reason.WRONG_REQUEST),
        (keys.decision(decision="maybe"), Reason.MALFORMED),
    ]
    for message, reason in cases:
        assert await verdict(verifier, raw(message)) == reason, message
    assert await verdict(verifier, raw(good)) is None
    assert await verdict(verifier, raw(good)) == Reason.REPLAYED


async def test_seq_must_rise_per_key_and_kind() -> None:
    keys = Keys()
    verifier = keys.verifier()
    later, earlier = keys.decision(seq=10), keys.decision(seq=9)
    assert await verdict(verifier, raw(later)) is None
    assert await verdict(verifier, raw(earlier)) == Reason.REPLAYED
    command = await verifier.verify("command", raw(keys.command(seq=1)), "L01")
    assert isinstance(command, Accepted)  # commands count their own seqs


async def test_no_outstanding_request_means_no_decision_is_accepted() -> None:
    keys = Keys()
    assert (
        await verdict(keys.verifier(), raw(keys.decision()), outstanding=None)
        == Reason.WRONG_REQUEST
    )


async def test_expiry_allows_the_configured_skew_and_reports_it() -> None:
    keys = Keys()
    verifier = keys.verifier(skew=30)
    message = keys.decision()
    keys.clock.now += 60 + 29  # expired 29 s ago: inside the allowance
    result = await verifier.verify("decision", raw(message), "L01", "req-1")
    assert isinstance(result, Accepted)
    assert result.skew_s is not None
    assert round(result.skew_s) == -89
    keys.clock.now += 2
    assert await verdict(keys.verifier(skew=30), raw(message)) == Reason.EXPIRED


async def test_the_signature_covers_the_object_as_received_not_a_re_dump() -> None:
    keys = Keys()
    message = keys.decision()
    # the same object, keys reordered and spaced: still the same canonical JSON, accepted
    reordered = json.dumps(dict(reversed(list(message.items()))), indent=2).encode()
    assert await verdict(keys.verifier(), reordered) is None
    # a value pydantic would coerce to the same int is a different object: refused
    coerced = {**message, "declared_gross_kg": 32_000.0}
    assert canonical_json(coerced) != canonical_json(message)
    assert await verdict(keys.verifier(), raw(coerced)) == Reason.BAD_SIGNATURE


@given(junk=st.binary(max_size=300))
async def test_garbage_is_malformed_never_an_exception(junk: bytes) -> None:
    keys = Keys()
    result = await keys.verifier().verify("decision", junk, "L01", "req-1")
    assert isinstance(result, Rejection)


@given(data=st.data())
async def test_any_byte_changed_is_refused_or_means_the_same_object(data: st.DataObject) -> None:
    keys = Keys()
    message = raw(keys.decision())
    at = data.draw(st.integers(0, len(message) - 1))
    value = data.draw(st.integers(0, 255).filter(lambda b: b != message[at]))
    mutated = message[:at] + bytes([value]) + message[at + 1 :]
    result = await keys.verifier().verify("decision", mutated, "L01", "req-1")
    if isinstance(result, Accepted):  # only whitespace-like changes can keep the object
        assert json.loads(mutated) == json.loads(message)
    else:
        assert result.reason != Reason.REPLAYED
