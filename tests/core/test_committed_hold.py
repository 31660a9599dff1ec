"""A committed record is never written twice: a vehicle whose transaction is committed and
that ends up in HOLD (a reset with it on the deck) is released without a new commit, and
cannot be rejected after the fact."""

from __future__ import annotations

from controller.core.commands import CommitTransaction, MoveBarrier, PublishEvent
from controller.core.events import OperatorCommanded
from controller.core.lane import LaneCore
from controller.core.types import LaneState, Motion, MoveReason, OperatorAction, Role, Side
from tests.core.test_boot_and_restart import context, report_all


def held_committed_vehicle() -> LaneCore:
    core = LaneCore(deck=context(committed=True), latched_fault="S7: io data lost")
    core.start(0.0)
    report_all(core, kg=24500)
    states = [core.state]
    core.handle(OperatorCommanded(1.0, OperatorAction.RESET, "officer", Role.OFFICER, True))
    states.append(core.state)
    assert states == [LaneState.FAULT, LaneState.HOLD]
    return core


def officer(core: LaneCore, action: OperatorAction) -> list[object]:
    return list(core.handle(OperatorCommanded(2.0, action, "officer", Role.OFFICER, True)))


def test_releasing_a_held_committed_vehicle_does_not_commit_again() -> None:
    core = held_committed_vehicle()
    out = officer(core, OperatorAction.RELEASE)
    assert not [c for c in out if isinstance(c, CommitTransaction)]
    assert core.state == LaneState.RELEASING
    assert MoveBarrier(Side.EXIT, Motion.OPEN, MoveReason.RELEASE) in out


def test_a_committed_vehicle_cannot_be_rejected_after_the_fact() -> None:
    core = held_committed_vehicle()
    out = officer(core, OperatorAction.REJECT)
    assert not [c for c in out if isinstance(c, CommitTransaction)]
    assert core.state == LaneState.HOLD
    refusals = [c for c in out if isinstance(c, PublishEvent) and c.type == "operator_refused"]
    assert "already committed" in str(refusals[0].data["refused"])
