"""The tag against the entry camera's plate (crosscheck.py, table.CROSS_CHECK): a wrong
truck is held at the approach before it can reach the deck; a missing or doubtful read
lets the tag decide, marked; a truck without a tag is cleared by its plate once an
officer confirms it. Driven on the scripted lane, in virtual time."""

from __future__ import annotations

from controller.core.commands import MoveBarrier, RequestClearance
from controller.core.events import AdmissionCapacityChanged, OperatorCommanded
from controller.core.params import CameraParams, LaneParams
from controller.core.types import (
    ApproachStage,
    Aspect,
    LaneState,
    Motion,
    OperatorAction,
    Outcome,
    Role,
    Side,
)
from simulation.scripted import ScriptedLane, Truck
from tests.core.test_steps import events, officer, reverse_sign

PLATE, OTHER = "29C12345", "51C67890"


def camera_lane(**camera: float) -> ScriptedLane:
    lane = ScriptedLane(params=LaneParams(camera=CameraParams(**camera)))  # type: ignore[arg-type]
    lane.run_for(2.0)
    assert lane.core.state == LaneState.IDLE
    return lane


def entry_opened(lane: ScriptedLane) -> bool:
    return any(
        isinstance(c, MoveBarrier) and c.side == Side.ENTRY and c.motion == Motion.OPEN
        for c in lane.commands
    )


def stage(lane: ScriptedLane) -> ApproachStage | None:
    approach = lane.core.approach
    return None if approach is None else approach.stage


def alarmed(lane: ScriptedLane, code: str) -> bool:
    return code in lane.core.standing


def test_tag_and_plate_agree_the_truck_proceeds_and_its_record_names_both() -> None:
    lane = camera_lane()
    assert lane.process(Truck("E1", 24000, declared_kg=24000, plate=PLATE))
    [record] = lane.committed
    assert record.outcome == Outcome.CLEARED
    assert record.identity is not None
    assert record.identity.method == "tag+plate"
    assert (record.identity.plate, record.identity.expected_plate) == (PLATE, PLATE)
    assert record.identity.confidence == 0.95
    assert record.identity.snapshot_sha256 == f"{1:064x}"
    [check] = events(lane, "identity_checked")
    assert check.data["evidence"] == "agrees"
    assert check.data["snapshot_sha256"] == f"{1:064x}"


def test_a_swapped_tag_is_held_at_the_approach_and_the_entry_never_opens() -> None:
    lane = camera_lane()
    lane.arrive(Truck("E1", 24000, plate=PLATE, papers_plate=OTHER))
    lane.run_for(30)
    assert stage(lane) == ApproachStage.MISMATCH
    assert alarmed(lane, "identity_mismatch")
    assert not entry_opened(lane)
    assert lane.core.deck is None
    assert lane.lights == (Aspect.RED, Aspect.RED)
    [check] = events(lane, "identity_checked")
    assert (check.data["verdict"], check.data["plate"]) == ("hold", PLATE)
    assert check.data["expected_plate"] == OTHER


def test_an_officer_refuses_a_mismatch_the_reverse_sign_lights_and_nothing_opens() -> None:
    lane = camera_lane()
    lane.arrive(Truck("E1", 24000, plate=PLATE, papers_plate=OTHER))
    lane.run_for(10)
    officer(lane, OperatorAction.REFUSE, reason="plate is not on the papers")
    lane.run_for(10)
    assert stage(lane) == ApproachStage.DENIED
    assert reverse_sign(lane)
    assert not entry_opened(lane)
    [refused] = events(lane, "vehicle_refused")
    assert (refused.data["plate"], refused.data["actor"]) == (PLATE, "officer.an")
    assert not alarmed(lane, "identity_mismatch")  # settled: the officer decided


def test_an_officer_confirms_a_misread_and_the_truck_is_admitted_as_vouched() -> None:
    lane = camera_lane()
    lane.arrive(Truck("E1", 24000, declared_kg=24000, plate=PLATE, papers_plate=OTHER))
    lane.run_for(10)
    officer(lane, OperatorAction.CONFIRM, reason="papers checked, camera misread")
    assert lane.run_until(lambda: entry_opened(lane), 10)
    assert lane.core.deck is not None
    assert lane.core.deck.identity is not None
    assert lane.core.deck.identity.method == "officer"
    assert events(lane, "identity_confirmed")[0].data["method"] == "officer"


def test_a_technician_cannot_confirm_or_refuse() -> None:
    lane = camera_lane()
    lane.arrive(Truck("E1", 24000, plate=PLATE, papers_plate=OTHER))
    lane.run_for(10)
    for action in (OperatorAction.CONFIRM, OperatorAction.REFUSE):
        lane.feed(OperatorCommanded(lane.now, action, "tech.a", Role.TECHNICIAN, True))
    assert stage(lane) == ApproachStage.MISMATCH
    refusals = [e.data["refused"] for e in events(lane, "operator_refused")]
    assert refusals == ["confirm needs an officer", "refuse needs an officer"]


def test_confirm_without_a_held_vehicle_is_refused_naming_why() -> None:
    lane = camera_lane()
    officer(lane, OperatorAction.CONFIRM, reason="nothing there")
    [refused] = events(lane, "operator_refused")
    assert refused.data["refused"] == "no vehicle awaiting confirmation"


def test_a_doubtful_read_lets_the_tag_decide_and_marks_the_record() -> None:
    lane = camera_lane()
    truck = Truck("E1", 24000, declared_kg=24000, plate=OTHER, papers_plate=PLATE)
    truck.plate_confidence = 0.5  # another plate, but the camera is not sure of it
    assert lane.process(truck)
    [record] = lane.committed
    assert record.identity is not None
    assert record.identity.method == "tag_only:plate_unsure"
    assert record.identity.plate == OTHER


def test_a_look_alike_read_is_the_read_not_the_truck() -> None:
    lane = camera_lane()
    truck = Truck("E1", 24000, declared_kg=24000, plate="29C12O45", papers_plate="29C12045")
    assert lane.process(truck)
    [record] = lane.committed
    assert record.identity is not None
    assert record.identity.method == "tag+plate_lookalike"


def test_a_missed_read_waits_plate_wait_s_then_the_tag_decides() -> None:
    lane = camera_lane(plate_wait_s=10.0)
    arrived = lane.now
    lane.arrive(Truck("E1", 24000, declared_kg=24000, papers_plate=PLATE))  # no read at all
    assert lane.run_until(lambda: entry_opened(lane), 30)
    assert lane.now >= arrived + 10.0  # granted after ~3 s, admitted only once the read was due
    lane.run_for(1)
    assert lane.core.deck is not None
    assert lane.core.deck.identity is not None
    assert lane.core.deck.identity.method == "tag_only:plate_missed"


def test_a_late_confident_read_of_another_plate_still_holds_before_admission() -> None:
    lane = camera_lane(plate_wait_s=1.0)
    lane.feed(AdmissionCapacityChanged(lane.now, admissions_allowed=False))
    lane.arrive(Truck("E1", 24000, papers_plate=PLATE))  # camera silent so far
    lane.run_for(8)
    assert stage(lane) == ApproachStage.GRANTED  # judged on the tag alone, not admitted yet
    lane.read_plate(OTHER, 0.97)
    assert stage(lane) == ApproachStage.MISMATCH
    lane.feed(AdmissionCapacityChanged(lane.now, admissions_allowed=True))
    lane.run_for(10)
    assert not entry_opened(lane)


def test_a_truck_without_a_tag_is_asked_about_by_its_plate_and_waits_for_an_officer() -> None:
    lane = camera_lane()
    lane.arrive(Truck("E1", 24000, declared_kg=24000, plate=PLATE, tag_answers=False))
    lane.run_for(10)
    [request] = [c for c in lane.commands if isinstance(c, RequestClearance)]
    assert (request.tag, request.plate) == (None, PLATE)
    assert stage(lane) == ApproachStage.CONFIRMING
    assert alarmed(lane, "plate_only_identity")
    assert not entry_opened(lane)
    officer(lane, OperatorAction.CONFIRM, reason="plate and papers checked")
    assert lane.run_until(lambda: entry_opened(lane), 10)
    assert lane.core.deck is not None
    assert lane.core.deck.identity is not None
    assert lane.core.deck.identity.method == "plate+officer"
    assert not alarmed(lane, "plate_only_identity")


def test_a_tag_request_carries_the_plate_read_for_it() -> None:
    lane = camera_lane()
    lane.arrive(Truck("E1", 24000, plate=PLATE))
    lane.run_for(1)
    [request] = [c for c in lane.commands if isinstance(c, RequestClearance)]
    assert (request.tag, request.plate) == ("E1", PLATE)


def test_a_read_before_the_approach_is_kept_for_the_truck_that_arrives() -> None:
    lane = camera_lane()
    lane.read_plate(PLATE, 0.93)  # the camera sees it coming, before the approach loop
    assert [e.data["attributed"] for e in events(lane, "plate_read")] == ["kept"]
    lane.run_for(2)
    assert lane.process(Truck("E1", 24000, declared_kg=24000, papers_plate=PLATE))
    [record] = lane.committed
    assert record.identity is not None
    assert record.identity.method == "tag+plate"


def test_a_read_kept_too_long_belongs_to_nobody() -> None:
    lane = camera_lane(early_read_s=5.0, plate_wait_s=1.0)
    lane.read_plate(OTHER, 0.93)
    lane.run_for(20)
    assert lane.process(Truck("E1", 24000, declared_kg=24000, papers_plate=PLATE))
    [record] = lane.committed
    assert record.identity is not None
    assert record.identity.method == "tag_only:plate_missed"


def test_the_next_trucks_read_is_kept_for_it_not_taken_as_a_conflict() -> None:
    lane = camera_lane()
    lane.feed(AdmissionCapacityChanged(lane.now, admissions_allowed=False))
    lane.arrive(Truck("E1", 24000, plate=PLATE))
    lane.run_for(5)
    lane.read_plate(OTHER, 0.96)  # the truck behind it comes into view
    assert stage(lane) == ApproachStage.GRANTED
    assert [r.plate for r in lane.core.lane.plates] == [OTHER]


def test_a_resent_read_is_a_duplicate_and_changes_nothing() -> None:
    lane = camera_lane()
    lane.read_plate(PLATE, 0.93)
    lane._plates -= 1  # the camera resends the same event id
    lane.read_plate(OTHER, 0.99)
    assert len(lane.core.lane.plates) == 1
    assert len(events(lane, "plate_read_duplicate")) == 1


def test_an_exit_read_is_journaled_and_identifies_nobody() -> None:
    lane = camera_lane()
    lane.read_plate(PLATE, 0.93, side=Side.EXIT)
    assert lane.core.lane.plates == []
    assert [e.data["attributed"] for e in events(lane, "plate_read")] == ["exit"]


def test_reads_missing_for_several_vehicles_raise_an_alarm_a_read_clears_it() -> None:
    lane = camera_lane(plate_wait_s=0.5, missing_alarm_after=2)
    for n in (1, 2):
        assert lane.process(Truck(f"E{n}", 20000, declared_kg=20000, papers_plate=PLATE))
    assert alarmed(lane, "plate_reads_missing")
    lane.read_plate(PLATE, 0.9)
    assert not alarmed(lane, "plate_reads_missing")


def test_a_clearance_naming_no_plate_lets_the_tag_decide_at_once_marked() -> None:
    lane = camera_lane(plate_wait_s=60.0)
    assert lane.process(Truck("E1", 24000, declared_kg=24000), limit_s=30)
    [record] = lane.committed
    assert record.identity is not None
    assert record.identity.method == "tag_only:no_plate_on_file"


def test_a_lane_without_a_camera_identifies_by_tag_alone_unmarked() -> None:
    lane = ScriptedLane()
    lane.run_for(2)
    assert lane.process(Truck("E1", 24000, declared_kg=24000, plate=PLATE, papers_plate=OTHER))
    [record] = lane.committed
    assert record.identity is None
    assert [e.data["attributed"] for e in events(lane, "plate_read")] == ["not_checked"]


def test_confirm_naming_another_vehicles_request_is_refused() -> None:
    lane = camera_lane()
    lane.arrive(Truck("E1", 24000, plate=PLATE, papers_plate=OTHER))
    lane.run_for(10)
    lane.feed(
        OperatorCommanded(
            lane.now,
            OperatorAction.CONFIRM,
            "officer.an",
            Role.OFFICER,
            True,
            reason="checked",
            args={"request_id": "id-gone"},
        )
    )
    assert stage(lane) == ApproachStage.MISMATCH
    [refused] = events(lane, "operator_refused")
    assert refused.data["refused"] == "request_id: 'id-gone' is not the vehicle at the approach"
