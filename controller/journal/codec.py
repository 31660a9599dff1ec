"""Records <-> JSON for the journal: enums by value, bytes as hex, tuples as lists; times
as RFC 3339 UTC with milliseconds, ending in `Z`.

Every stored `ts` has that one fixed width, so comparing the strings compares the times:
retention and export filter on `ts` in SQL without parsing it.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from controller.core.commands import DeckContext, IdentityCheck, TransactionRecord
from controller.core.types import Decision, LaneState, Outcome


def _default(value: object) -> object:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, bytes):
        return value.hex()
    raise TypeError(f"cannot journal {type(value).__name__}")


def dumps(value: object) -> str:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = dataclasses.asdict(value)
    return json.dumps(value, default=_default, sort_keys=True, separators=(",", ":"))


def rfc3339(epoch_s: float) -> str:
    moment = datetime.fromtimestamp(epoch_s, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def normalized_ts(text: str) -> str:
    """`text` (an RFC 3339 time, or a bare date meaning its UTC midnight) in the stored
    form; a time without an offset is refused rather than guessed."""
    moment = datetime.fromisoformat(text.strip())  # ValueError names the bad text
    if len(text.strip()) == 10:  # a bare date: midnight UTC
        moment = moment.replace(tzinfo=UTC)
    if moment.tzinfo is None:
        raise ValueError(f"{text!r} has no UTC offset (end it with Z)")
    return rfc3339(moment.timestamp())


def json_object(text: str) -> dict[str, object]:
    value = json.loads(text)
    if not isinstance(value, dict):
        raise TypeError(f"journal row is not a JSON object: {text[:60]!r}")
    return value


def _enum(kind: type[Enum], value: Any) -> Any:
    return None if value is None else kind(value)


def record_from(text: str) -> TransactionRecord:
    d = json.loads(text)
    return TransactionRecord(
        transaction_id=d["transaction_id"],
        lane=d["lane"],
        request_id=d["request_id"],
        tag=d["tag"],
        outcome=Outcome(d["outcome"]),
        gross_kg=d["gross_kg"],
        raw_frame=bytes.fromhex(d["raw_frame"]),
        decision=_enum(Decision, d["decision"]),
        declared_gross_kg=d["declared_gross_kg"],
        reason=d["reason"],
        stage_times=tuple((str(k), float(v)) for k, v in d["stage_times"]),
        identity=_identity(d.get("identity")),
    )


def context_from(text: str) -> DeckContext:
    d = json.loads(text)
    return DeckContext(
        transaction_id=d["transaction_id"],
        stage=LaneState(d["stage"]),
        tag=d["tag"],
        request_id=d["request_id"],
        decision=_enum(Decision, d["decision"]),
        declared_gross_kg=d["declared_gross_kg"],
        tolerance_kg=d["tolerance_kg"],
        gross_kg=d["gross_kg"],
        raw_frame=bytes.fromhex(d["raw_frame"]),
        committed=d["committed"],
        outcome=_enum(Outcome, d["outcome"]),
        hold_reason=d["hold_reason"],
        stage_times=tuple((str(k), float(v)) for k, v in d["stage_times"]),
        identity=_identity(d.get("identity")),
    )


def _identity(d: Any) -> IdentityCheck | None:
    """A record journaled before the camera came has no identity check: None."""
    return None if d is None else IdentityCheck(**d)
