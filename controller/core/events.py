"""Events: facts the runtime reports to the core, each stamped with `now`.

`now` is monotonic seconds from the runtime's clock (the event loop). Events are frozen
and slotted; the core never mutates them. Device reports carry decoded values only: the
codecs in devices/ turned bytes into these.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from controller.core.timer_ids import TimerId
from controller.core.types import (
    BarrierState,
    Decision,
    Device,
    EventKind,
    OperatorAction,
    Role,
    Side,
)


@dataclass(frozen=True, slots=True)
class InputsChanged:
    """The I/O module's inputs, by signal name (only the signals that changed may be given)."""

    now: float
    inputs: Mapping[str, bool]


@dataclass(frozen=True, slots=True)
class BarrierReported:
    now: float
    side: Side
    state: BarrierState
    position: int | None  # 0..100 %, None when the device says unknown (255)
    presence: bool = False  # photocell/obstacle or safety edge (holding 102 bits 0-1)
    auto_close: bool = False
    device_fault: bool = False  # motor or limit-switch fault flag


@dataclass(frozen=True, slots=True)
class WeightReported:
    now: float
    weight_kg: float
    motion: bool
    out_of_range: bool = False
    raw: bytes = b""  # the indicator's frame, kept for the transaction record


@dataclass(frozen=True, slots=True)
class TagsRead:
    """One inventory round's EPCs (hex), after the driver's debounce."""

    now: float
    epcs: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PlateReported:
    """One camera read (devices/camera, authenticated and deduplicated), its snapshot
    stored by the runtime under `snapshot_sha256` (hex)."""

    now: float
    side: Side
    camera: str
    event_id: str
    plate: str
    country: str
    confidence: float
    snapshot_sha256: str


@dataclass(frozen=True, slots=True)
class ClearanceDecided:
    """A decision the bridge has already authenticated (S6); the core matches the request."""

    now: float
    request_id: str
    decision: Decision
    declared_gross_kg: int | None = None
    tolerance_kg: int | None = None
    plate: str | None = None  # the plate the central system expects for the tag


@dataclass(frozen=True, slots=True)
class TimerExpired:
    now: float
    timer_id: TimerId


@dataclass(frozen=True, slots=True)
class DeviceHealthChanged:
    now: float
    device: Device
    healthy: bool
    reason: str = ""


@dataclass(frozen=True, slots=True)
class TransactionCommitted:
    now: float
    transaction_id: str


@dataclass(frozen=True, slots=True)
class TransactionCommitFailed:
    now: float
    transaction_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class AdmissionCapacityChanged:
    """The journal's headroom: past its admission limit no vehicle is admitted."""

    now: float
    admissions_allowed: bool
    reason: str = ""


@dataclass(frozen=True, slots=True)
class InvariantViolated:
    """A runtime monitor found the lane breaking a safety invariant: always a fault."""

    now: float
    invariant: str
    message: str


@dataclass(frozen=True, slots=True)
class OperatorCommanded:
    """A command from gatectl or a verified remote command, with who sent it."""

    now: float
    action: OperatorAction
    actor: str
    role: Role
    authenticated: bool
    side: Side | None = None
    tag: str | None = None
    reason: str = ""
    args: Mapping[str, str] = field(default_factory=dict)


Event = (
    InputsChanged
    | BarrierReported
    | WeightReported
    | TagsRead
    | PlateReported
    | ClearanceDecided
    | TimerExpired
    | DeviceHealthChanged
    | TransactionCommitted
    | TransactionCommitFailed
    | AdmissionCapacityChanged
    | InvariantViolated
    | OperatorCommanded
)

_KIND_OF: dict[type, EventKind] = {
    InputsChanged: EventKind.INPUTS,
    BarrierReported: EventKind.BARRIER,
    WeightReported: EventKind.WEIGHT,
    TagsRead: EventKind.TAGS,
    PlateReported: EventKind.PLATE,
    ClearanceDecided: EventKind.DECISION,
    TimerExpired: EventKind.TIMER,
    DeviceHealthChanged: EventKind.HEALTH,
    TransactionCommitted: EventKind.COMMITTED,
    TransactionCommitFailed: EventKind.COMMIT_FAILED,
    AdmissionCapacityChanged: EventKind.CAPACITY,
    InvariantViolated: EventKind.VIOLATION,
}
_OPERATOR_KIND = {action: EventKind("op_" + action.value) for action in OperatorAction}


def event_kind(event: Event) -> EventKind:
    if isinstance(event, OperatorCommanded):
        return _OPERATOR_KIND[event.action]
    return _KIND_OF[type(event)]
