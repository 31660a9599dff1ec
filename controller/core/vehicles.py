"""The vehicles the lane knows: one at the approach, at most one on the deck.

The approach vehicle is being identified and cleared while the deck vehicle is weighed
(the pipeline of DESIGN section 3). At admission the approach vehicle becomes the deck
vehicle; its context is what the journal keeps so a restart resumes without weighing or
committing twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from controller.core.commands import DeckContext, IdentityCheck, TransactionRecord
from controller.core.types import ApproachStage, Decision, LaneState, Outcome, PlateEvidence


@dataclass(frozen=True, slots=True)
class PlateSighting:
    """One entry-camera read, as the core keeps it (crosscheck.py)."""

    plate: str
    confidence: float
    snapshot_sha256: str
    event_id: str
    at: float  # the event's `now`


@dataclass(slots=True)
class ApproachVehicle:
    started_at: float
    stage: ApproachStage = ApproachStage.WAITING_TAG
    tag: str | None = None
    request_id: str | None = None
    decision: Decision | None = None
    declared_gross_kg: int | None = None
    tolerance_kg: int | None = None
    identified_by: str = "rfid"  # rfid, plate, or officer:<actor>
    # ---------------------------------------------------------- the camera (crosscheck.py)
    reads: list[PlateSighting] = field(default_factory=list)  # attributed to it, oldest first
    plate_due: bool = False  # plate_wait_s has passed: a missing read is missed
    asked_plate: str | None = None  # asked about by this plate alone (no tag)
    expected_plate: str | None = None  # the plate its clearance names
    vouched_by: str | None = None  # an officer confirmed its identity: no cross-check
    evidence: PlateEvidence | None = None  # as last judged (journaled when it changes)
    identity: IdentityCheck | None = None  # the judgement it is admitted with

    def best_read(self) -> PlateSighting | None:
        """The most confident read (the newest of equals)."""
        return max(reversed(self.reads), key=lambda r: r.confidence, default=None)


@dataclass(slots=True)
class DeckVehicle:
    transaction_id: str
    tag: str | None
    request_id: str | None
    decision: Decision | None
    declared_gross_kg: int | None = None
    tolerance_kg: int | None = None
    stage: LaneState = LaneState.ADMITTING
    admitted_with_s3: bool = False  # S2: the entry opened for it with S3 and S12 holding
    reached_entry: bool = False
    entry_pulses: int = 0
    on_scale: bool = False  # the scale has shown it on the deck (at least on_deck_kg)
    over_beam_in: bool = False  # the I/O module saw it block beam_in: its front was on the deck
    on_deck: bool = False  # seen fully on the deck: beams clear, weight on, entry arm clear
    exit_opened: bool = False  # the exit was not closed at some time: it may leave forwards
    reversed_off: bool = False  # left the deck backwards, towards the entry (a driver alarm)
    reached_exit: bool = False
    empty_since: float | None = None  # LEAVING: the lane empty around it since (not saved)
    gross_kg: int | None = None
    raw_frame: bytes = b""
    outcome: Outcome | None = None
    committed: bool = False
    hold_reason: str = ""
    identity: IdentityCheck | None = None  # how it was identified (crosscheck.py)
    alarmed: set[str] = field(default_factory=set)  # driver alarms raised once per vehicle
    times: dict[str, float] = field(default_factory=dict)

    @classmethod
    def admitted(cls, approach: ApproachVehicle, transaction_id: str) -> DeckVehicle:
        return cls(
            transaction_id=transaction_id,
            tag=approach.tag,
            request_id=approach.request_id,
            decision=approach.decision,
            declared_gross_kg=approach.declared_gross_kg,
            tolerance_kg=approach.tolerance_kg,
            identity=approach.identity,
            admitted_with_s3=True,
            times={"approach": approach.started_at},
        )

    @classmethod
    def unknown(cls, transaction_id: str, now: float, reason: str) -> DeckVehicle:
        """A vehicle found on the deck that nobody admitted (intruder, lost context)."""
        return cls(transaction_id, None, None, None, hold_reason=reason, times={"found": now})

    @classmethod
    def restored(cls, ctx: DeckContext) -> DeckVehicle:
        return cls(
            transaction_id=ctx.transaction_id,
            tag=ctx.tag,
            request_id=ctx.request_id,
            decision=ctx.decision,
            declared_gross_kg=ctx.declared_gross_kg,
            tolerance_kg=ctx.tolerance_kg,
            stage=ctx.stage,
            reached_entry=True,
            gross_kg=ctx.gross_kg,
            raw_frame=ctx.raw_frame,
            outcome=ctx.outcome,
            committed=ctx.committed,
            hold_reason=ctx.hold_reason,
            identity=ctx.identity,
            times=dict(ctx.stage_times),
        )

    def context(self) -> DeckContext:
        return DeckContext(
            transaction_id=self.transaction_id,
            stage=self.stage,
            tag=self.tag,
            request_id=self.request_id,
            decision=self.decision,
            declared_gross_kg=self.declared_gross_kg,
            tolerance_kg=self.tolerance_kg,
            gross_kg=self.gross_kg,
            raw_frame=self.raw_frame,
            committed=self.committed,
            outcome=self.outcome,
            hold_reason=self.hold_reason,
            stage_times=tuple(self.times.items()),
            identity=self.identity,
        )

    def record(self, lane: str, outcome: Outcome, reason: str) -> TransactionRecord:
        return TransactionRecord(
            transaction_id=self.transaction_id,
            lane=lane,
            request_id=self.request_id,
            tag=self.tag,
            outcome=outcome,
            gross_kg=self.gross_kg if outcome != Outcome.RELEASED_UNWEIGHED else None,
            raw_frame=self.raw_frame,
            decision=self.decision,
            declared_gross_kg=self.declared_gross_kg,
            reason=reason,
            stage_times=tuple(self.times.items()),
            identity=self.identity,
        )
