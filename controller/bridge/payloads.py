"""The MQTT payloads of DESIGN section 6 as pydantic models (`extra="forbid"`).

Every payload names its `schema`. Outgoing models are built by the bridge and dumped with
`exclude_none` (optional fields are omitted, never null). Incoming signed messages are
validated here only *after* their signature held over the received bytes (verify.py), so
a model never decides what was signed. Times are RFC 3339 UTC strings ending in `Z`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from controller.core.types import Decision

TOPIC_ROOT = "gate"


def _utc(value: str) -> str:
    if not value.endswith("Z"):
        raise ValueError("an RFC 3339 UTC time ending in Z expected")
    try:
        datetime.fromisoformat(value[:-1] + "+00:00")
    except ValueError:
        raise ValueError("an RFC 3339 UTC time ending in Z expected") from None
    return value


UtcTime = Annotated[str, Field(min_length=20, max_length=35), AfterValidator(_utc)]
Name = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]
Id = Annotated[str, Field(min_length=1, max_length=128)]
Tag = Annotated[str, Field(min_length=2, max_length=64, pattern=r"^[0-9A-Fa-f]+$")]
# a number plate as the lane camera normalises it (devices/camera/codec.py PLATE)
PLATE_PATTERN = r"^[A-Z0-9]{4,10}$"
Plate = Annotated[str, Field(min_length=4, max_length=10, pattern=PLATE_PATTERN)]
Kg = Annotated[int, Field(ge=0, le=200_000)]
Seq = Annotated[int, Field(ge=1, le=2**63 - 1)]
Sig = Annotated[str, Field(min_length=1, max_length=200)]


def utc_text(epoch_s: float) -> str:
    return (
        datetime.fromtimestamp(epoch_s, UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )


def epoch_of(text: str) -> float:
    return datetime.fromisoformat(text[:-1] + "+00:00").timestamp()


ANCHOR_STAGE = "decided"  # set in the core step that issues the commit


def stage_walltimes(stages: dict[str, float], committed_ts: str) -> dict[str, str]:
    """A record's stage times (monotonic seconds) as UTC. The core issues the commit in
    the step that sets the `decided` stage, and the journal stamps the write with the
    wall clock (`committed_ts`): every stage is placed by its monotonic distance from
    that anchor. This holds across restarts and reboots (the monotonic clock does not),
    exact to the journal write's latency (milliseconds)."""
    if not stages:
        return {}
    anchor = ANCHOR_STAGE if ANCHOR_STAGE in stages else max(stages, key=stages.__getitem__)
    wall = epoch_of(committed_ts)
    return {name: utc_text(wall - (stages[anchor] - t)) for name, t in stages.items()}


class Payload(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _tag_or_plate(tag: str | None, plate: str | None) -> None:
    """A vehicle is named by its tag, its plate or both (issue 15: a truck whose tag is
    dead is asked about by the plate the camera read), never by neither."""
    if tag is None and plate is None:
        # a model-level error has no location: the message names the field itself
        raise PydanticCustomError("identified", "tag: missing, and no plate either")


# ---------------------------------------------------------------------- outgoing
class StatusPayload(Payload):
    schema_: Literal["gatebridge.status/1"] = Field("gatebridge.status/1", alias="schema")
    status: Literal["online", "offline"]
    ts: UtcTime | None = None


class EventPayload(Payload):
    schema_: Literal["gatebridge.event/1"] = Field("gatebridge.event/1", alias="schema")
    lane: Name
    event_id: Id
    seq: Seq
    ts: UtcTime
    type: Name
    data: dict[str, object]


class IdentityPayload(Payload):
    """How the vehicle was identified (TransactionRecord.identity); absent parts omitted."""

    method: Annotated[str, Field(min_length=1, max_length=64)]
    plate: Plate | None = None
    confidence: Annotated[float, Field(ge=0.0, le=1.0)] | None = None
    snapshot_sha256: Annotated[str, Field(pattern=r"^[0-9A-Fa-f]{64}$")] | None = None
    expected_plate: Plate | None = None


class TransactionPayload(Payload):
    schema_: Literal["gatebridge.transaction/1"] = Field("gatebridge.transaction/1", alias="schema")
    lane: Name
    transaction_id: Id
    ts: UtcTime
    request_id: Id | None = None
    tag: Tag | None = None
    outcome: Literal["cleared", "released_unweighed", "rejected", "maintenance_crossing"]
    decision: Decision | None = None
    gross_kg: Kg | None = None
    declared_gross_kg: Kg | None = None
    raw_frame_hex: str = ""
    indicator: str = ""
    reason: str = ""
    stage_times: dict[str, float] = Field(default_factory=dict)
    # additive (gatebridge.transaction/1): the stages as UTC, beside the monotonic seconds
    stage_walltimes: dict[str, UtcTime] = Field(default_factory=dict)
    # additive (issue 15): the tag and plate cross-check, on a lane with a camera
    identity: IdentityPayload | None = None


class ClearanceRequestPayload(Payload):
    """By tag (with the plate read for it, when there is one) or by plate alone."""

    schema_: Literal["gatebridge.clearance_request/1"] = Field(
        "gatebridge.clearance_request/1", alias="schema"
    )
    lane: Name
    request_id: Id
    tag: Tag | None = None  # optional since issue 15 (additive: a tag alone is as before)
    plate: Plate | None = None
    ts: UtcTime

    @model_validator(mode="after")
    def _named(self) -> Self:
        _tag_or_plate(self.tag, self.plate)
        return self


class StatePayload(Payload):
    schema_: Literal["gatebridge.state/1"] = Field("gatebridge.state/1", alias="schema")
    lane: Name
    ts: UtcTime
    state: dict[str, object]


# ---------------------------------------------------------------------- incoming, signed
class SignedPayload(Payload):
    lane: Name
    seq: Seq
    issued_at: UtcTime
    expires_at: UtcTime
    key_id: Name
    sig: Sig


class DecisionPayload(SignedPayload):
    """`plate` (issue 15, additive): the plate central expects for the tag, or on a
    request by plate that plate; a decision on a request by plate may name no tag."""

    schema_: Literal["gatebridge.decision/1"] = Field(alias="schema")
    tag: Tag | None = None
    plate: Plate | None = None
    request_id: Id
    decision: Decision
    declared_gross_kg: Kg | None = None
    tolerance_kg: Kg | None = None

    @model_validator(mode="after")
    def _named(self) -> Self:
        _tag_or_plate(self.tag, self.plate)
        return self


class CommandPayload(SignedPayload):
    schema_: Literal["gatebridge.command/1"] = Field(alias="schema")
    command: Literal["release", "reject", "reset", "mode", "confirm", "refuse"]
    target: Annotated[str, Field(max_length=128)] = ""
    args: dict[str, Annotated[str, Field(max_length=500)]] = Field(default_factory=dict)


def dump(payload: Payload) -> bytes:
    return payload.model_dump_json(by_alias=True, exclude_none=True).encode()


# ---------------------------------------------------------------------- topics
def gateway_topic(site: str, gateway: str, leaf: str) -> str:
    return f"{TOPIC_ROOT}/{site}/{gateway}/{leaf}"


def lane_topic(site: str, gateway: str, lane: str, leaf: str) -> str:
    return f"{TOPIC_ROOT}/{site}/{gateway}/{lane}/{leaf}"
