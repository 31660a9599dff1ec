"""Commands: what the core asks the runtime to do, as imperatives.

The workflow proposes them; the interlock filter (interlock.py) disposes: only commands
that pass it leave the core. Records (transaction, deck context) are frozen snapshots so
the journal can write them off the event loop without racing the core.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from controller.core.timer_ids import TimerId
from controller.core.types import (
    Aspect,
    Decision,
    LaneState,
    Mode,
    Motion,
    MoveReason,
    Outcome,
    Side,
)


@dataclass(frozen=True, slots=True)
class SetLights:
    """The lane's whole output image, written in one go (one FC15): no dark head, no
    red-and-green between two writes."""

    entry: Aspect
    exit: Aspect
    sign_reposition: bool = False
    sign_reverse: bool = False


@dataclass(frozen=True, slots=True)
class MoveBarrier:
    side: Side
    motion: Motion
    reason: MoveReason


@dataclass(frozen=True, slots=True)
class DisableAutoClose:
    """S9: the barriers' own auto-close must be off under the controller."""

    side: Side


@dataclass(frozen=True, slots=True)
class ZeroScale:
    pass


@dataclass(frozen=True, slots=True)
class SetInventory:
    """Wake (or park) RFID inventory; waking starts a fresh debounce window."""

    active: bool


@dataclass(frozen=True, slots=True)
class RequestClearance:
    """Ask about the vehicle by its tag, with the plate read for it when there is one;
    by its plate alone (`tag` None) when it carries no tag."""

    request_id: str
    tag: str | None
    plate: str | None = None


@dataclass(frozen=True, slots=True)
class StartTimer:
    timer_id: TimerId
    deadline: float


@dataclass(frozen=True, slots=True)
class CancelTimer:
    timer_id: TimerId


@dataclass(frozen=True, slots=True)
class IdentityCheck:
    """How the vehicle was identified and what the camera said (crosscheck.py): `method`
    is `tag+plate`, `tag+plate_lookalike`, `tag_only:<evidence>`, `plate+officer`,
    `officer` or `tag` (no camera on the lane)."""

    method: str
    plate: str | None = None  # the best read attributed to the vehicle
    confidence: float | None = None
    snapshot_sha256: str | None = None
    expected_plate: str | None = None  # what the clearance named


@dataclass(frozen=True, slots=True)
class TransactionRecord:
    transaction_id: str
    lane: str
    request_id: str | None
    tag: str | None
    outcome: Outcome
    gross_kg: int | None
    raw_frame: bytes
    decision: Decision | None
    declared_gross_kg: int | None
    reason: str
    stage_times: tuple[tuple[str, float], ...]
    identity: IdentityCheck | None = None


@dataclass(frozen=True, slots=True)
class CommitTransaction:
    """Write durably (S10); answer with TransactionCommitted or TransactionCommitFailed."""

    record: TransactionRecord


@dataclass(frozen=True, slots=True)
class DeckContext:
    """The workflow context of the vehicle on the deck, journaled at each stage change."""

    transaction_id: str
    stage: LaneState
    tag: str | None
    request_id: str | None
    decision: Decision | None
    declared_gross_kg: int | None
    tolerance_kg: int | None
    gross_kg: int | None
    raw_frame: bytes
    committed: bool
    outcome: Outcome | None
    hold_reason: str
    stage_times: tuple[tuple[str, float], ...]
    identity: IdentityCheck | None = None


@dataclass(frozen=True, slots=True)
class SaveContext:
    context: DeckContext | None  # None: the deck is free


@dataclass(frozen=True, slots=True)
class PersistFault:
    """Latch (reason) or clear (None) the lane's fault durably: it survives a restart."""

    reason: str | None


@dataclass(frozen=True, slots=True)
class PersistMode:
    """Journal the operator's mode: a lane in maintenance (or closed) boots so again."""

    mode: Mode


@dataclass(frozen=True, slots=True)
class RaiseAlarm:
    code: str
    message: str


@dataclass(frozen=True, slots=True)
class ClearAlarm:
    code: str


@dataclass(frozen=True, slots=True)
class PublishEvent:
    """A lane event for the journal (gapless per-lane seq is assigned there)."""

    type: str
    data: Mapping[str, object] = field(default_factory=dict)


Command = (
    SetLights
    | MoveBarrier
    | DisableAutoClose
    | ZeroScale
    | SetInventory
    | RequestClearance
    | StartTimer
    | CancelTimer
    | CommitTransaction
    | SaveContext
    | PersistFault
    | PersistMode
    | RaiseAlarm
    | ClearAlarm
    | PublishEvent
)
