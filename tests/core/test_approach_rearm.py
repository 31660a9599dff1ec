"""A truck standing on the approach loop is identified again after whatever dropped its
approach record (a fault, maintenance, an emergency, closing the lane) is over; before,
it waited unidentified until it drove off the loop and came back."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from controller.core.commands import RequestClearance, SetInventory
from controller.core.events import InputsChanged, InvariantViolated, OperatorCommanded, TagsRead
from controller.core.lane import LaneCore
from controller.core.types import LaneState, OperatorAction, Role
from tests.core.test_boot_open_arms import QUIET as AT_STOP_LINE  # approach loop occupied
from tests.core.test_boot_open_arms import booted_with_open_arms
from tests.core.test_steps import booted

TAG = "E200001122334455"


def officer(now: float, action: OperatorAction) -> OperatorCommanded:
    return OperatorCommanded(now, action, "officer.t", Role.OFFICER, authenticated=True)


def approaching(core: LaneCore) -> bool:
    return core.approach is not None


def requests(commands: Sequence[object]) -> list[str]:
    return [c.tag or "" for c in commands if isinstance(c, RequestClearance)]


def inventory_on(commands: Sequence[object]) -> bool:
    return any(isinstance(c, SetInventory) and c.active for c in commands)


def idle_with_a_truck_identified() -> LaneCore:
    core, _ = booted_with_open_arms(0.1, AT_STOP_LINE)
    core.handle(TagsRead(0.2, (TAG,)))
    assert core.approach is not None
    assert core.approach.tag == TAG
    return core


def fault_then_reset(core: LaneCore) -> list[object]:
    core.handle(InvariantViolated(1.0, "S1", "injected by the test"))
    assert core.state == LaneState.FAULT
    assert core.approach is None
    return list(core.handle(officer(2.0, OperatorAction.RESET)))


def maintenance_then_auto(core: LaneCore) -> list[object]:
    core.handle(officer(1.0, OperatorAction.MODE_MAINTENANCE))
    assert core.state == LaneState.MAINTENANCE
    assert core.approach is None
    return list(core.handle(officer(2.0, OperatorAction.MODE_AUTO)))


def closed_then_auto(core: LaneCore) -> list[object]:
    core.handle(officer(1.0, OperatorAction.MODE_CLOSED))
    assert core.approach is None
    return list(core.handle(officer(2.0, OperatorAction.MODE_AUTO)))


@pytest.mark.parametrize(
    "interruption", [fault_then_reset, maintenance_then_auto, closed_then_auto]
)
def test_the_waiting_truck_is_identified_again(interruption: object) -> None:
    core = idle_with_a_truck_identified()
    out = interruption(core)  # type: ignore[operator]
    assert core.state not in (LaneState.FAULT, LaneState.MAINTENANCE, LaneState.CLOSED)
    assert core.approach is not None
    assert core.approach.tag is None
    assert inventory_on(out)
    assert requests(core.handle(TagsRead(3.0, (TAG,)))) == [TAG]


def test_an_empty_approach_loop_is_not_rearmed() -> None:
    core, _ = booted_with_open_arms(0.1, {**AT_STOP_LINE, "approach_loop": False})
    assert core.approach is None
    out = fault_then_reset(core)
    assert core.approach is None
    assert not inventory_on(out)


def test_an_idle_lane_identifies_a_truck_that_arrived_while_another_was_on_the_loop() -> None:
    """The approach loop stayed occupied from one truck to the next (one backing away over
    it as the next moved up): no arrival edge, and the lane sat idle with a queue."""
    lane = booted()
    lane.set_inputs(approach_loop=True)
    lane.core.lane.approach = None  # dropped when the vehicle it was for went; the loop stayed on
    out = lane.feed(TagsRead(lane.now, ()))  # any step of the idle lane
    assert lane.core.state == LaneState.IDLE
    assert approaching(lane.core)
    assert inventory_on(out)
    assert requests(lane.feed(TagsRead(lane.now, (TAG,)))) == [TAG]


EMPTY_LOOP = {**AT_STOP_LINE, "approach_loop": False}


def arriving_during(
    core: LaneCore, start: OperatorAction | None, end: OperatorAction
) -> list[object]:
    """The lane is interrupted (a fault when `start` is None), a truck arrives on the
    approach loop meanwhile and its tag is read (and ignored: nobody identifies now), then
    the interruption ends."""
    if start is None:
        core.handle(InvariantViolated(1.0, "S1", "injected by the test"))
    else:
        core.handle(officer(1.0, start))
    assert core.state in (LaneState.FAULT, LaneState.MAINTENANCE, LaneState.CLOSED)
    arrived = list(core.handle(InputsChanged(1.5, AT_STOP_LINE)))
    assert core.approach is None  # no approach record while identification is off
    assert not inventory_on(arrived)
    assert requests(core.handle(TagsRead(1.6, (TAG,)))) == []
    return list(core.handle(officer(2.0, end)))


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (None, OperatorAction.RESET),
        (OperatorAction.MODE_MAINTENANCE, OperatorAction.MODE_AUTO),
    ],
)
def test_a_truck_that_arrived_during_an_interruption_is_identified_after_it(
    start: OperatorAction | None, end: OperatorAction
) -> None:
    """The 24-hour simulation found a lane idle for hours: the truck's arrival edge during a
    fault made an approach record, its tag read then was ignored and, being read on and on,
    was never news to the reader's debounce again; the reset found the record there and so
    did not wake inventory (which restarts the debounce)."""
    core, _ = booted_with_open_arms(0.1, EMPTY_LOOP)
    out = arriving_during(core, start, end)
    assert core.state not in (LaneState.FAULT, LaneState.MAINTENANCE, LaneState.CLOSED)
    assert approaching(core)
    assert inventory_on(out)  # the reader's debounce starts afresh: the tag is news again
    assert requests(core.handle(TagsRead(3.0, (TAG,)))) == [TAG]
