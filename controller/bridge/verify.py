"""S6: a signed decision or command is accepted only if every check holds.

Theory of operation: checks run in a fixed order, each naming what broke: size, JSON
object, signature present, key trusted (a key removed from the config is revoked),
signature over the canonical JSON of the object as received, schema, lane, validity
window (with the allowed clock skew), the outstanding `request_id` (decisions), and
last a `seq` strictly above the last accepted for (lane, key_id, kind), which the store
persists before the message counts as accepted. Anything else fails closed: the result
is a `Rejection` and nothing reaches the lane. The wall clock is injected, so simulations
verify expiry in virtual time.

Every authentic, well-formed message reports its `skew_s` (issued_at minus the local
clock), whatever the verdict, so the receiver can track clock health; None means the
message never got that far.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal, Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import ValidationError

from controller.bridge.payloads import CommandPayload, DecisionPayload, SignedPayload, epoch_of
from controller.bridge.signing import signature_holds

Kind = Literal["decision", "command"]
MAX_MESSAGE_BYTES = 16 * 1024
MODELS: dict[Kind, type[SignedPayload]] = {"decision": DecisionPayload, "command": CommandPayload}


class Reason(StrEnum):
    MALFORMED = "malformed"
    UNSIGNED = "unsigned"
    UNKNOWN_KEY = "unknown_key"
    BAD_SIGNATURE = "bad_signature"
    WRONG_LANE = "wrong_lane"
    NOT_YET_VALID = "not_yet_valid"
    EXPIRED = "expired"
    WRONG_REQUEST = "wrong_request"
    REPLAYED = "replayed"


@dataclass(frozen=True, slots=True)
class Rejection:
    reason: Reason
    detail: str
    kind: Kind
    lane: str
    key_id: str | None = None
    seq: int | None = None
    skew_s: float | None = None

    def as_event(self) -> dict[str, object]:
        data: dict[str, object] = {"kind": self.kind, "reason": self.reason.value}
        data["detail"] = self.detail
        if self.key_id is not None:
            data["key_id"] = self.key_id
        if self.seq is not None:
            data["seq"] = self.seq
        return data


@dataclass(frozen=True, slots=True)
class Accepted:
    payload: SignedPayload
    skew_s: float | None = None


class SeqStore(Protocol):
    async def accept_seq(self, lane: str, key_id: str, kind: str, seq: int) -> bool:
        """Store `seq` if strictly above the last accepted; durable before returning."""
        ...


@dataclass(slots=True)
class MemorySeqStore:
    last: dict[tuple[str, str, str], int] = field(default_factory=dict)

    async def accept_seq(self, lane: str, key_id: str, kind: str, seq: int) -> bool:
        if seq <= self.last.get((lane, key_id, kind), 0):
            return False
        self.last[lane, key_id, kind] = seq
        return True


class _Refused(Exception):
    """Internal control flow: one check failed; never escapes `verify`."""

    def __init__(self, reason: Reason, detail: str) -> None:
        self.reason, self.detail = reason, detail


@dataclass(slots=True)
class Verifier:
    keys: Mapping[str, Ed25519PublicKey]
    max_skew_s: float
    wall_clock: Callable[[], float]
    seqs: SeqStore

    async def verify(
        self, kind: Kind, raw: bytes, lane: str, outstanding: str | None = None
    ) -> Accepted | Rejection:
        """Check `raw` received for `lane` (from the topic); `outstanding` for decisions."""
        obj: dict[str, object] = {}
        skew: float | None = None
        try:
            obj = _json_object(raw)
            self._authentic(obj)
            payload = _model(kind, obj)
            skew = self._skew(payload)
            self._applies(kind, payload, lane, outstanding)
            await self._fresh_seq(kind, lane, payload)
        except _Refused as refused:
            key_id, seq = obj.get("key_id"), obj.get("seq")
            return Rejection(
                refused.reason,
                refused.detail,
                kind,
                lane,
                key_id if isinstance(key_id, str) else None,
                seq if isinstance(seq, int) else None,
                skew,
            )
        return Accepted(payload, skew)

    async def _fresh_seq(self, kind: Kind, lane: str, payload: SignedPayload) -> None:
        if not await self.seqs.accept_seq(lane, payload.key_id, kind, payload.seq):
            raise _Refused(Reason.REPLAYED, f"seq: {payload.seq} is not above the last accepted")

    def _authentic(self, obj: Mapping[str, object]) -> None:
        if "sig" not in obj:
            raise _Refused(Reason.UNSIGNED, "sig: missing")
        key_id = obj.get("key_id")
        if not isinstance(key_id, str) or key_id not in self.keys:
            raise _Refused(Reason.UNKNOWN_KEY, f"key_id: {key_id!r} is not a trusted key")
        if not signature_holds(obj, self.keys[key_id]):
            raise _Refused(Reason.BAD_SIGNATURE, f"sig: does not verify with key {key_id!r}")

    def _skew(self, payload: SignedPayload) -> float:
        return epoch_of(payload.issued_at) - self.wall_clock()

    def _applies(
        self, kind: Kind, payload: SignedPayload, lane: str, outstanding: str | None
    ) -> None:
        if payload.lane != lane:
            raise _Refused(Reason.WRONG_LANE, f"lane: {payload.lane!r} received for lane {lane!r}")
        now, skew = self.wall_clock(), self.max_skew_s
        if epoch_of(payload.issued_at) > now + skew:
            raise _Refused(Reason.NOT_YET_VALID, f"issued_at: {payload.issued_at} is in the future")
        if now > epoch_of(payload.expires_at) + skew:
            raise _Refused(Reason.EXPIRED, f"expires_at: {payload.expires_at} has passed")
        if isinstance(payload, DecisionPayload) and payload.request_id != outstanding:
            raise _Refused(
                Reason.WRONG_REQUEST,
                f"request_id: {payload.request_id!r} is not the outstanding request",
            )


def _json_object(raw: bytes) -> dict[str, object]:
    if len(raw) > MAX_MESSAGE_BYTES:
        raise _Refused(Reason.MALFORMED, f"payload: {len(raw)} bytes, over {MAX_MESSAGE_BYTES}")
    try:
        obj = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise _Refused(Reason.MALFORMED, f"payload: not UTF-8 JSON ({error})") from None
    if not isinstance(obj, dict):
        raise _Refused(Reason.MALFORMED, "payload: a JSON object expected")
    return obj


def _model(kind: Kind, obj: Mapping[str, object]) -> SignedPayload:
    try:
        payload = MODELS[kind].model_validate(obj, strict=False)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        # a model-level check (tag or plate) has no location; its message names the field
        detail = f"{where}: {first['msg']}" if where else first["msg"]
        raise _Refused(Reason.MALFORMED, detail) from None
    if epoch_of(payload.expires_at) <= epoch_of(payload.issued_at):
        raise _Refused(Reason.MALFORMED, "expires_at: not after issued_at")
    return payload
