"""Every vehicle that crosses the deck leaves a record of what was measured: one that
crossed in maintenance is committed as `maintenance_crossing` with its stable weight,
and an unknown vehicle's record carries the stable gross the scale read while it stood
on the deck. A field user found no record of trucks that crossed in maintenance, and a
rejected unknown vehicle with `gross_kg: null` although the scale read 39.5 t."""

from __future__ import annotations

from controller.core.commands import CommitTransaction
from controller.core.events import OperatorCommanded
from controller.core.types import LaneState, OperatorAction, Outcome, Role
from simulation.scripted import ScriptedLane
from tests.core.test_steps import booted, state

A = OperatorAction


def officer(lane: ScriptedLane, action: OperatorAction) -> None:
    lane.feed(OperatorCommanded(lane.now, action, "ofc", Role.OFFICER, True, reason="checked"))


def commits(lane: ScriptedLane) -> list[CommitTransaction]:
    return [c for c in lane.commands if isinstance(c, CommitTransaction)]


def truck_on_the_deck_in_maintenance(kg: float = 31_200) -> ScriptedLane:
    lane = booted()
    officer(lane, A.MODE_MAINTENANCE)
    assert state(lane) == LaneState.MAINTENANCE
    lane.set_inputs(beam_in=True)
    lane.load_kg = kg * 0.6
    lane.run_for(2)
    lane.load_kg = kg  # fully on the scale, its rear still over beam_in
    lane.run_for(0.5)
    lane.set_inputs(beam_in=False)
    lane.run_for(lane.params.stable_window_s + 1)  # it stands still on the deck
    return lane


def test_a_truck_crossing_in_maintenance_leaves_a_record_with_its_weight() -> None:
    lane = truck_on_the_deck_in_maintenance()
    assert not commits(lane)
    lane.set_inputs(beam_out=True)
    lane.load_kg = 0.0
    lane.run_for(1)
    lane.set_inputs(beam_out=False)
    lane.run_for(1)
    [commit] = commits(lane)
    assert commit.record.outcome == Outcome.MAINTENANCE_CROSSING
    assert commit.record.gross_kg == 31_200
    assert commit.record.raw_frame == b"scripted"
    assert [r.transaction_id for r in lane.committed] == [commit.record.transaction_id]
    assert state(lane) == LaneState.MAINTENANCE  # its commit is settled, not a surprise


def test_a_crossing_committed_as_maintenance_ends_is_no_fault() -> None:
    lane = truck_on_the_deck_in_maintenance()
    lane.load_kg = 0.0
    assert lane.run_until(lambda: bool(commits(lane)), 5)
    officer(lane, A.MODE_AUTO)  # before the journal has answered
    lane.run_for(2)
    assert state(lane) in (LaneState.CLEARING, LaneState.IDLE)
    assert len(lane.committed) == 1


def test_maintenance_left_with_a_truck_on_the_deck_holds_it_weighed() -> None:
    lane = truck_on_the_deck_in_maintenance()
    officer(lane, A.MODE_AUTO)
    assert state(lane) == LaneState.HOLD
    deck = lane.core.deck
    assert deck is not None
    assert deck.gross_kg == 31_200


def test_a_rejected_unknown_vehicle_carries_the_weight_the_scale_measured() -> None:
    lane = booted()
    lane.load_kg = 39_500  # on the deck, admitted by nobody
    lane.run_for(1)
    assert state(lane) == LaneState.HOLD
    lane.run_for(lane.params.stable_window_s + 1)
    officer(lane, A.REJECT)
    [commit] = commits(lane)
    assert commit.record.outcome == Outcome.REJECTED
    assert commit.record.tag is None
    assert commit.record.gross_kg == 39_500
