"""Property tests of the core: arbitrary interleavings, invariants after every step, and
proof that the property test has teeth (a broken interlock is caught)."""

from __future__ import annotations

import pytest
from hypothesis import settings
from hypothesis.stateful import run_state_machine_as_test

from controller.core.commands import Command, MoveBarrier
from controller.core.interlock import Interlock
from controller.core.invariants import LaneView, Violation
from controller.core.types import Motion
from tests.core.machine import LaneMachine

TestLaneCore = LaneMachine.TestCase


class ClosesOnPresence(Interlock):
    """A deliberately broken filter: it lets any barrier close, presence or not (S1)."""

    def judge(self, view: LaneView, command: Command, now: float) -> Violation | None:
        if isinstance(command, MoveBarrier) and command.motion == Motion.CLOSE:
            return None
        return super().judge(view, command, now)


@pytest.mark.parametrize("broken", [ClosesOnPresence])
def test_the_property_test_catches_a_broken_interlock(broken: type[Interlock]) -> None:
    class BrokenMachine(LaneMachine):
        interlock_under_test = broken()

    # the escape is seen where the command leaves the core, or as the S1 monitor's trip
    with pytest.raises(AssertionError, match=r"interlock let through|S1"):
        run_state_machine_as_test(
            BrokenMachine,
            settings=settings(
                max_examples=1000,
                stateful_step_count=60,
                derandomize=True,
                report_multiple_bugs=False,
            ),
        )
