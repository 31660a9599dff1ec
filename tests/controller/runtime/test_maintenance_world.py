"""A technician in maintenance through the gateway, the full stack against the emulated
world and its safety oracle, in virtual time (issue 17, items 1, 2 and 5). The lane is
the one `gatectl simulate` builds (real runtime, drivers and in-memory links with their
wire fault books); the oracle trusts only what the devices physically did and must find
no controller-caused incident."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager

import pytest

from controller.core.types import LaneState, OperatorAction, Role, Side
from controller.maintenance.server import Caller, Operation
from controller.runtime.gateway import Gateway
from devices.transport.base import MemoryHub
from devices.transport.modbus import ModbusLinks
from emulators.faults import FaultKind, FaultSpec
from emulators.world import Behaviour, Phase
from simulation.engine import SimLane, build_lane
from tests.controller.runtime.harness import Stepped

A = OperatorAction
TECHNICIAN = Caller(pid=1, uid=1000, user="tech.jo", role=Role.TECHNICIAN)


class Technician:
    """Operates one simulated lane through the gateway, as gatectl would."""

    def __init__(self, sim: SimLane) -> None:
        self.sim = sim
        self.world = sim.emulated.world
        self.gateway = Gateway([sim.runtime])
        self.stepped = Stepped()
        sim.runtime.on_change = self.stepped.notify

    def __call__(self, action: OperatorAction, side: Side | None = None) -> dict[str, object]:
        return self.gateway.operate(Operation(self.sim.lane_id, action, side), TECHNICIAN)

    def state(self) -> LaneState | None:
        core = self.sim.runtime.core
        return None if core is None else core.state

    def caused(self) -> list[object]:
        return list(self.world.oracle.by("controller"))

    async def until(self, condition: Callable[[], bool], limit_s: float) -> None:
        """Wait on `condition`, re-checked after every runtime step (the scale alone
        reports ten times a second), for at most `limit_s` of virtual time."""
        async with asyncio.timeout(limit_s):
            await self.stepped.wait_until(condition)

    async def show_entry_green(self) -> None:
        """Open the entry arm, wait for it to stand fully open, show green."""
        assert self(A.BARRIER_OPEN, Side.ENTRY)["accepted"]
        await self.until(lambda: self.world.panel.arm_fully_open("entry"), 10)
        assert self(A.LIGHT_GREEN, Side.ENTRY)["accepted"]
        await self.until(lambda: self.world.panel.green("entry"), 2)


@asynccontextmanager
async def in_maintenance() -> AsyncIterator[Technician]:
    async with AsyncExitStack() as stack:
        sim = await build_lane(0, 1, MemoryHub(), ModbusLinks(), misbehave=0.0, stack=stack)
        task = asyncio.create_task(sim.runtime.run())
        try:
            technician = Technician(sim)
            await technician.until(lambda: technician.state() == LaneState.IDLE, 10)
            assert technician(A.MODE_MAINTENANCE)["state"] == "maintenance"
            yield technician
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            sim.clearance.cancel_all()


@pytest.mark.looptime
async def test_a_close_under_a_manual_green_waits_for_the_red_on_a_slow_io_link() -> None:
    """The I/O module misses its replies for 150 ms just as the technician closes the arm
    under its green: the red reaches the lamps late (the lane is even DEGRADED for a
    moment), so the arm must start down later still."""
    async with in_maintenance() as technician:
        await technician.show_entry_green()
        emulated = technician.sim.emulated
        assert emulated.clock is not None
        silent = FaultSpec(kind=FaultKind.NO_REPLY, duration_s=0.15)
        emulated.wire["io"].inject(silent, emulated.clock.now())
        assert technician(A.BARRIER_CLOSE, Side.ENTRY)["accepted"]
        arm = emulated.barriers["entry"]
        await technician.until(lambda: arm.position <= 0 or bool(technician.caused()), 10)
        assert technician.caused() == []  # entry_green_arm_not_open, before
        assert technician.state() == LaneState.MAINTENANCE
        again = technician(A.BARRIER_CLOSE, Side.ENTRY)
        await asyncio.sleep(10.0)  # beyond field_check_ms and stroke_timeout_s
        assert technician.state() == LaneState.MAINTENANCE  # no S8 latched by the no-op
    assert again == {
        "accepted": True,
        "noop": "entry barrier already closed",
        "state": "maintenance",
    }


@pytest.mark.looptime
async def test_a_manual_green_lets_one_truck_onto_the_deck_not_the_one_behind() -> None:
    async with in_maintenance() as technician:
        await technician.show_entry_green()
        world = technician.world
        first = world.spawn(world.make_truck())
        second = world.spawn(world.make_truck())
        await technician.until(lambda: first.phase == Phase.ON_DECK, 120)
        await asyncio.sleep(30.0)  # the second truck waits at the stop line, red
        caused = technician.caused()  # two_admitted_on_deck, before
        waiting = second.phase
        refused = technician(A.LIGHT_GREEN, Side.ENTRY)
        back = technician(A.MODE_AUTO)
    assert caused == []
    assert waiting == Phase.AT_STOP
    assert "deck not empty" in str(refused["refused"])
    assert back["state"] == "hold"  # an unknown vehicle on the deck, not clearing
    assert not world.oracle.by("driver")


@pytest.mark.looptime
async def test_a_tailgater_onto_the_occupied_deck_in_maintenance_is_alarmed() -> None:
    async with in_maintenance() as technician:
        await technician.show_entry_green()
        world, alarms = technician.world, technician.sim.runtime.alarms
        first = world.spawn(world.make_truck())
        world.spawn(world.make_truck(Behaviour.TAILGATE))  # drives on behind it, on red
        await technician.until(lambda: "vehicle_onto_occupied_deck" in alarms, 120)
        assert first.phase in (Phase.ENTERING, Phase.ON_DECK)
    assert not world.oracle.by("controller")
    assert [i.kind for i in world.oracle.by("driver")] == ["entered_on_red"]
