"""Records <-> JSON for the journal: enums by value, bytes as hex, tuples as lists."""

from __future__ import annotations

import dataclasses
import json
from enum import Enum
from typing import Any

from controller.core.commands import DeckContext, TransactionRecord
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
    )
