"""The simulation's identity tally: each swapped tag counted once, where it was caught."""

from __future__ import annotations

from controller.core.commands import IdentityCheck, PublishEvent, TransactionRecord
from controller.core.types import Outcome
from simulation.camera import IdentityTally, identity_report


def record(
    tag: str, outcome: Outcome = Outcome.CLEARED, method: str = "tag+plate"
) -> TransactionRecord:
    identity = IdentityCheck(method)
    return TransactionRecord(
        "tx", "L01", "r", tag, outcome, 20000, b"", None, None, "", (), identity
    )


def held(tag: str) -> PublishEvent:
    return PublishEvent("identity_checked", {"verdict": "hold", "tag": tag})


def test_each_swapped_tag_lands_in_exactly_one_bucket() -> None:
    tally = IdentityTally(swapped_tags={"S1", "S2", "S3"})
    tally.heard(held("S1"), None)  # caught at the approach, then refused: never committed
    tally.heard(PublishEvent("alarm", {"code": "lane_held"}), "S2")  # held by weight
    tally.committed(record("S2", Outcome.REJECTED))
    tally.committed(record("S3"))  # through unchecked: missed
    tally.committed(record("T9"))  # an honest truck: not counted
    report = identity_report([tally], vehicles=50)
    assert report["swapped_caught_before_deck"] == 1
    assert report["swapped_caught_by_weight"] == 1
    assert report["swapped_missed"] == 1
    assert report["officer_holds_per_100_vehicles"] == 4.0  # 2 holds in 50 vehicles


def test_a_hold_of_an_honest_truck_is_officer_work_not_a_catch() -> None:
    tally = IdentityTally(swapped_tags={"S1"})
    tally.heard(held("T1"), None)
    tally.heard(PublishEvent("alarm", {"code": "plate_only_identity"}), None)
    report = identity_report([tally], vehicles=100)
    assert report["false_identity_holds"] == 1
    assert report["swapped_caught_before_deck"] == 0
    assert report["identity_holds_per_100_vehicles"] == 2.0


def test_a_marked_admission_is_counted_once_a_vehicle_from_its_record() -> None:
    tally = IdentityTally()
    judged = {"verdict": "marked", "tag": "T1"}
    tally.heard(PublishEvent("identity_checked", judged), None)  # judged, then again
    tally.heard(PublishEvent("identity_checked", judged), None)
    tally.committed(record("T1", method="tag_only:plate_missed"))
    tally.committed(record("T2"))  # cross-checked: not marked
    assert identity_report([tally], vehicles=2)["admitted_on_tag_alone"] == 1
