"""Cross-check: the approach vehicle's tag against the entry camera's plate read.

Theory of operation: the entry camera reads a truck's plate as it enters the camera's
field, usually before it reaches the approach loop, so a read that finds no vehicle at the
approach is kept (`LaneRecord.plates`) for `early_read_s` and taken by the next vehicle
to arrive (the newest plate among those kept: trucks are read in the order they come). A
read arriving while a vehicle is at the approach is that vehicle's, unless it already has
a confident read of another plate: then it is the next truck's, kept for it. Reads are
deduplicated by event id; exit-camera reads are journaled only.

Once the vehicle is granted, `cross_check` judges what the camera says against the plate
the clearance names (`plate_evidence`); table.CROSS_CHECK says what follows: admit,
admit on the tag alone with the transaction marked, hold it at the approach for an
officer (`identity_mismatch`: the entry stays closed, the deck's vehicle goes on), or wait
while a read is still due (`plate_wait_s` after the approach). The judgement is repeated
whenever the evidence changes until the vehicle is admitted, so a late confident read of
another plate still holds it. A vehicle with no tag but a confident plate is asked about
by its plate once `plate_wait_s` has passed; its grant waits for an officer's `confirm`
(confirmation.py). An officer who identified or confirmed a vehicle has vouched for it:
it is not cross-checked. Each judgement is journaled (`identity_checked`) with the read,
its confidence and the snapshot's hash; so is every read (`plate_read`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from controller.core.alarms import Clears
from controller.core.clearance import Clearance
from controller.core.commands import IdentityCheck
from controller.core.events import PlateReported
from controller.core.params import CameraParams
from controller.core.timer_ids import PLATE_WAIT, TimerId
from controller.core.types import ApproachStage, LaneState, PlateEvidence, Side, Verdict
from controller.core.vehicles import ApproachVehicle, PlateSighting

REMEMBERED_IDS = 64  # read ids kept to recognise a camera's resend
# characters a recogniser confuses, folded to one: equal once folded is a look-alike
LOOKALIKES = ("0ODQ", "8B39", "1I", "5S", "2Z", "6GC", "7T", "4A")
_FOLD = str.maketrans({c: group[0] for group in LOOKALIKES for c in group})
Rule = tuple[Verdict, str]  # what follows, and the identity method the record names


def fold(plate: str) -> str:
    return plate.translate(_FOLD)


def plate_evidence(approach: ApproachVehicle, camera: CameraParams) -> PlateEvidence:
    """What the camera says about `approach`, against the plate its clearance names."""
    if approach.expected_plate is None:
        return PlateEvidence.UNNAMED
    best = approach.best_read()
    if best is None or best.confidence < camera.min_confidence:
        if not approach.plate_due:
            return PlateEvidence.PENDING
        return PlateEvidence.MISSED if best is None else PlateEvidence.UNSURE
    if best.plate == approach.expected_plate:
        return PlateEvidence.AGREES
    if fold(best.plate) == fold(approach.expected_plate):
        return PlateEvidence.LOOKALIKE
    return PlateEvidence.DISAGREES


class CrossCheck(Clearance):
    cross_check_rules: ClassVar[Mapping[PlateEvidence, Rule]] = {}  # table.CROSS_CHECK

    # ------------------------------------------------------------------ reads
    def on_plate(self, event: PlateReported) -> LaneState | None:
        camera = self.params.camera
        if not self._first_sighting(event):
            return None
        if event.side != Side.ENTRY or camera is None:
            self._journal_read(event, "exit" if event.side == Side.EXIT else "not_checked")
            return None
        self._plate_seen()
        read = PlateSighting(
            event.plate, event.confidence, event.snapshot_sha256, event.event_id, event.now
        )
        approach = self.lane.approach
        if approach is not None and self._its_own(approach, read, camera):
            approach.reads.append(read)
            self._journal_read(event, "approach")
            self.ask_by_plate(approach, event.now)
            self.cross_check()
        else:
            self.lane.plates.append(read)
            self._journal_read(event, "kept")
        return None

    def on_plate_ignored(self, event: PlateReported) -> LaneState | None:
        """Identification is off (fault, maintenance, emergency): journaled only. (While
        the lane boots a read is kept: the truck it saw may be standing at the approach.)"""
        if self._first_sighting(event):
            self._journal_read(event, "ignored")
        return None

    def _first_sighting(self, event: PlateReported) -> bool:
        ids = self.lane.plate_ids
        if event.event_id in ids:
            self.event("plate_read_duplicate", camera=event.camera, event_id=event.event_id)
            return False
        ids.append(event.event_id)
        del ids[:-REMEMBERED_IDS]
        return True

    def _its_own(self, approach: ApproachVehicle, read: PlateSighting, cam: CameraParams) -> bool:
        confident = [r.plate for r in approach.reads if r.confidence >= cam.min_confidence]
        return not confident or read.plate in confident

    def _journal_read(self, event: PlateReported, attributed: str) -> None:
        self.event(
            "plate_read",
            side=event.side.value,
            camera=event.camera,
            event_id=event.event_id,
            plate=event.plate,
            country=event.country,
            confidence=event.confidence,
            snapshot_sha256=event.snapshot_sha256,
            attributed=attributed,
        )

    def approach_opened(self, approach: ApproachVehicle, now: float) -> None:
        """A vehicle has arrived: it takes the reads kept for it and waits for one."""
        camera = self.params.camera
        if camera is None:
            return
        kept = [r for r in self.lane.plates if now - r.at <= camera.early_read_s]
        self.lane.plates = []
        if kept:
            approach.reads = [r for r in kept if r.plate == kept[-1].plate]
        self.start_timer(PLATE_WAIT, now + camera.plate_wait_s)

    def t_plate_wait(self, timer: TimerId, now: float) -> LaneState | None:
        approach = self.lane.approach
        if approach is not None:
            approach.plate_due = True
            self.ask_by_plate(approach, now)
            self.cross_check()
        return None

    # ------------------------------------------------------------------ a truck without a tag
    def ask_by_plate(self, approach: ApproachVehicle, now: float) -> None:
        """No tag within plate_wait_s, a confident plate: ask about the vehicle by it."""
        camera, best = self.params.camera, approach.best_read()
        if camera is None or best is None or best.confidence < camera.min_confidence:
            return
        if approach.tag is not None or not approach.plate_due:
            return
        if approach.stage != ApproachStage.WAITING_TAG:
            return
        approach.asked_plate, approach.identified_by = best.plate, "plate"
        self.ask(approach, now)
        self.event(
            "vehicle_identified", plate=best.plate, request_id=approach.request_id, by="plate"
        )

    def granted_by_plate(self, approach: ApproachVehicle) -> None:
        """Cleared by its plate alone: an officer must confirm it is that vehicle."""
        approach.stage = ApproachStage.CONFIRMING
        self.alarm(
            "plate_only_identity",
            f"plate {approach.asked_plate} cleared without a tag: an officer confirms the vehicle",
            Clears.IDENTITY_SETTLED,
        )

    # ------------------------------------------------------------------ the judgement
    def cross_check(self) -> None:
        """Judge the granted approach vehicle's identity (again, if the evidence changed)."""
        approach, camera = self.lane.approach, self.params.camera
        if approach is None or camera is None or approach.stage != ApproachStage.GRANTED:
            return
        if approach.vouched_by is not None:  # an officer has vouched: not cross-checked
            approach.identity = approach.identity or self.identity_of(approach, "officer")
            return
        evidence = plate_evidence(approach, camera)
        if evidence == approach.evidence:
            return
        approach.evidence = evidence
        verdict, method = self.cross_check_rules[evidence]
        first = approach.identity is None
        check = self.identity_of(approach, method)
        approach.identity = check if verdict in (Verdict.PROCEED, Verdict.MARKED) else None
        self._journal_check(approach, check, evidence, verdict)
        if verdict == Verdict.HOLD:
            self._mismatch(approach)
        elif first and evidence == PlateEvidence.MISSED:
            self._read_missed(camera)

    def identity_of(self, approach: ApproachVehicle, method: str) -> IdentityCheck:
        best = approach.best_read()
        return IdentityCheck(
            method=method,
            plate=None if best is None else best.plate,
            confidence=None if best is None else best.confidence,
            snapshot_sha256=None if best is None else best.snapshot_sha256,
            expected_plate=approach.expected_plate,
        )

    def _journal_check(
        self,
        approach: ApproachVehicle,
        check: IdentityCheck,
        evidence: PlateEvidence,
        verdict: Verdict,
    ) -> None:
        self.event(
            "identity_checked",
            tag=approach.tag,
            request_id=approach.request_id,
            evidence=evidence.value,
            verdict=verdict.value,
            method=check.method,
            plate=check.plate,
            confidence=check.confidence,
            snapshot_sha256=check.snapshot_sha256,
            expected_plate=check.expected_plate,
        )

    def _mismatch(self, approach: ApproachVehicle) -> None:
        approach.stage = ApproachStage.MISMATCH
        best = approach.best_read()
        read = "nothing" if best is None else f"{best.plate} ({best.confidence:.2f})"
        self.alarm(
            "identity_mismatch",
            f"tag {approach.tag} is cleared for plate {approach.expected_plate}, "
            f"the camera read {read}: held at the approach for an officer",
            Clears.IDENTITY_SETTLED,
        )

    def _read_missed(self, camera: CameraParams) -> None:
        self.lane.reads_missed += 1
        if self.lane.reads_missed == camera.missing_alarm_after:
            self.alarm(
                "plate_reads_missing",
                f"{camera.missing_alarm_after} vehicles in a row without a plate read: "
                "check the entry camera",
            )

    def _plate_seen(self) -> None:
        self.lane.reads_missed = 0
        self.clear_condition("plate_reads_missing")
