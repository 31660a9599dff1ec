"""Property tests of the core: arbitrary interleavings, invariants after every step, and
proof that the property test has teeth (a broken interlock is caught)."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

import pytest
from hypothesis import Phase, settings
from hypothesis.stateful import run_state_machine_as_test

from controller.core.commands import Command, MoveBarrier, PublishEvent
from controller.core.crosscheck import Rule
from controller.core.interlock import Interlock
from controller.core.invariants import LaneView, Violation, check_lane
from controller.core.lane import LaneCore
from controller.core.types import (
    BarrierState,
    Decision,
    LaneState,
    Motion,
    OperatorAction,
    PlateEvidence,
    Role,
    Side,
    Verdict,
)
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
                phases=(Phase.generate, Phase.shrink),  # explaining the failure costs 10 s
            ),
        )


class KeepsManualGreens(LaneCore):
    """A deliberately broken core: a manual green that had to go red comes back (item 1)."""

    def withdraw_manual_greens(self, halting: frozenset[Side]) -> None:
        return None


class ClosesWithTheRed(LaneCore):
    """A deliberately broken core: an arm goes down in the step of its red (item 2)."""

    def close_due(self, side: Side, now: float) -> float:
        return now


@pytest.mark.parametrize(
    ("broken", "found"),
    [(KeepsManualGreens, r"came back|S2|S3"), (ClosesWithTheRed, r"after its red|under its")],
)
def test_the_field_checks_catch_a_broken_core(broken: type[LaneCore], found: str) -> None:
    class BrokenMachine(LaneMachine):
        core_under_test = broken

    with pytest.raises(AssertionError, match=found):
        run_state_machine_as_test(
            BrokenMachine,
            settings=settings(
                max_examples=500,
                stateful_step_count=60,
                derandomize=True,
                report_multiple_bugs=False,
                phases=(Phase.generate,),  # found is enough here: shrinking costs seconds
            ),
        )


def test_a_manual_stop_does_not_cancel_the_reopen_over_a_vehicle() -> None:
    """Found by the long campaign (bench.core --examples 10000): the entry arm reports a
    close stroke (from an unknown state, so no S8 fault), a technician switches to
    maintenance, a vehicle arrives under it and the core reopens, then the technician's
    STOP replaced the reopen and left the arm closing over the vehicle (S1)."""
    machine = LaneMachine()
    machine.boot()
    machine.advance(0.05)
    machine.barrier_odd(Side.ENTRY, BarrierState.UNKNOWN, 0, presence=False, auto_close=False)
    machine.advance(0.05)
    machine.barrier_odd(Side.ENTRY, BarrierState.CLOSING, 0, presence=False, auto_close=False)
    machine.technician_at_an_occupied_arm(Side.ENTRY, OperatorAction.BARRIER_STOP, Role.TECHNICIAN)
    assert machine.core.state == LaneState.MAINTENANCE
    assert machine.core.commanded[Side.ENTRY] == Motion.OPEN
    assert not check_lane(machine.core, machine.now)
    [refused] = [
        c for c in machine.last if isinstance(c, PublishEvent) and c.type == "operator_refused"
    ]
    assert "S1" in str(refused.data["refused"])
    machine.lane_is_safe_after_the_step()
    machine.nothing_unsafe_left_the_core()


class AdmitsAgainstThePlate(LaneCore):
    """A deliberately broken core: a confident read of another plate does not hold."""

    cross_check_rules: ClassVar[dict[PlateEvidence, Rule]] = {
        **LaneCore.cross_check_rules,
        PlateEvidence.DISAGREES: (Verdict.PROCEED, "tag+plate"),
    }


@pytest.mark.parametrize("read_first", [True, False])
def test_the_plate_invariant_catches_a_core_that_admits_against_the_plate(
    read_first: bool,
) -> None:
    """The machine's steps in the order that exposes it (random campaigns reach it
    seldom: bench.core runs them long); the correct core holds the same steps."""
    for core, caught in ((AdmitsAgainstThePlate, True), (LaneCore, False)):

        class Machine(LaneMachine):
            core_under_test = core

        machine = Machine()
        machine.boot()
        machine.advance(0.3)
        steps: list[Callable[[LaneMachine], None]] = [
            lambda m: m.truck_arrives(24500.0),
            lambda m: m.read_tags(m.new_tag("E2000A"), None),
            lambda m: m.decide(Decision.GRANT, None, False, "29C12345"),
        ]
        read: list[Callable[[LaneMachine], None]] = [
            lambda m: m.camera_reads("51C67890", 0.97, Side.ENTRY, False)
        ]
        for step in read + steps if read_first else steps + read:
            step(machine)
        if caught:
            with pytest.raises(AssertionError, match="admissible against its plate"):
                machine.no_truck_admissible_against_its_plate()
        else:
            machine.no_truck_admissible_against_its_plate()
            assert machine.core.approach is not None
            assert machine.core.approach.stage.value == "identity_mismatch"
