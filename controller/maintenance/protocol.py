"""The maintenance socket's protocol: JSON lines, one request and one response each.

Requests are validated by pydantic (`extra="forbid"`), so a malformed line gets a clear
one-line error naming the field and the connection stays usable.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, model_validator

LaneId = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_.-]+$")]
Reason = Annotated[str, Field(min_length=3, max_length=500)]
AlarmCode = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9_]+$")]
Tag = Annotated[str, Field(min_length=2, max_length=64, pattern=r"^[0-9A-Fa-f]+$")]
RequestId = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.:-]+$")]


class OnBehalf(BaseModel):
    """Who the console acts for (accepted only from a peer in the console group)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    user: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]
    role: Literal["viewer", "technician", "officer"]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    on_behalf: OnBehalf | None = None


class StatusRequest(_Request):
    op: Literal["status"]


class EventsRequest(_Request):
    op: Literal["events"]
    follow: bool = False
    last: int = Field(default=50, ge=0, le=10_000)


class ModeRequest(_Request):
    op: Literal["mode"]
    lane: LaneId
    mode: Literal["auto", "maintenance", "closed", "emergency"]
    reason: str = Field(default="", max_length=500)

    @model_validator(mode="after")
    def _emergency_has_a_reason(self) -> ModeRequest:
        # an emergency is an officer's action: audited with why, like release or reset
        if self.mode == "emergency" and len(self.reason.strip()) < 3:
            raise ValueError("reason: an emergency needs a reason (at least 3 characters)")
        return self


class BarrierRequest(_Request):
    op: Literal["barrier"]
    lane: LaneId
    side: Literal["entry", "exit"]
    action: Literal["open", "close", "stop"]


class LightRequest(_Request):
    op: Literal["light"]
    lane: LaneId
    side: Literal["entry", "exit"]
    aspect: Literal["red", "green"]


class HoldRequest(_Request):
    op: Literal["hold"]
    lane: LaneId
    action: Literal["release", "reject"]
    reason: Reason


class IdentifyRequest(_Request):
    op: Literal["identify"]
    lane: LaneId
    tag: Tag
    reason: Reason


class ApproachRequest(_Request):
    """An officer's decision on the vehicle held at the approach (identity_mismatch or
    awaiting_confirmation): confirm the identity its clearance names, or refuse it.
    `request_id`, when given, is the clearance request the officer checked: the lane
    refuses the command if the vehicle at the approach is another one by then."""

    op: Literal["approach"]
    lane: LaneId
    action: Literal["confirm", "refuse"]
    reason: Reason
    request_id: RequestId | None = None


class ResetRequest(_Request):
    op: Literal["reset"]
    lane: LaneId
    reason: Reason


class AckRequest(_Request):
    """An officer acknowledges a standing alarm (by its code, as status lists it)."""

    op: Literal["ack"]
    lane: LaneId
    alarm: AlarmCode
    reason: Reason


# the Modbus tables a request may name, and how much one request may carry (Modbus' own
# PDU limits: FC1/FC2 2000 bits, FC3/FC4 125 registers)
DIAG_MAX_READ = {"coils": 2000, "discrete": 2000, "holding": 125, "input": 125}
DiagValue = Annotated[int, Field(ge=0, le=0xFFFF)]


class DiagRequest(_Request):
    """`gatectl diag modbus read|write` through the controller, on a lane in maintenance:
    a read runs on the lane's own link; a write (`values`) is mapped to the operator
    command it stands for, or refused (controller/runtime/passthrough.py)."""

    op: Literal["diag"]
    lane: LaneId
    device: Literal["io", "entry_barrier", "exit_barrier"]
    table: Literal["coils", "discrete", "holding", "input"]
    address: int = Field(ge=0, le=0xFFFF)
    count: int = Field(default=1, ge=1, le=2000)
    values: list[DiagValue] | None = Field(default=None, min_length=1, max_length=123)

    @model_validator(mode="after")
    def _within_the_table(self) -> DiagRequest:
        count = self.count if self.values is None else len(self.values)
        if self.values is None and count > DIAG_MAX_READ[self.table]:
            raise ValueError(
                f"count: {count} is not in 1..{DIAG_MAX_READ[self.table]} for {self.table}"
            )
        if self.address + count > 0x10000:
            raise ValueError(
                f"address: {self.address}..{self.address + count - 1} is outside 0..65535"
            )
        return self


class SnapshotRequest(_Request):
    """A camera read's JPEG snapshot, by the sha256 its events name (any role: a read)."""

    op: Literal["snapshot"]
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class AuditRequest(_Request):
    op: Literal["audit"]
    verify: bool = False
    last: int = Field(default=50, ge=0, le=10_000)


Request = Annotated[
    StatusRequest
    | EventsRequest
    | ModeRequest
    | BarrierRequest
    | LightRequest
    | HoldRequest
    | IdentifyRequest
    | ApproachRequest
    | ResetRequest
    | AckRequest
    | AuditRequest
    | SnapshotRequest
    | DiagRequest,
    Field(discriminator="op"),
]
REQUEST = TypeAdapter(Request)


# what an answer is, for the client's exit code: ok 0, refused 1 (the controller or an
# interlock said no), usage 2 (the request itself was wrong), device 4 (a device failed)
AnswerKind = Literal["ok", "refused", "usage", "device"]


class Response(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ok: bool
    kind: AnswerKind = "ok"
    error: str = ""
    data: dict[str, object] = Field(default_factory=dict)


def parse_request(line: bytes) -> Request | str:
    """The request, or a one-line error naming the bad field."""
    try:
        return REQUEST.validate_json(line)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "request"
        return f"{where}: {first['msg'].removeprefix('Value error, ')}"
