"""A truck carrying another vehicle's tag, through the full polling stack. Without a
camera, the in-process clearance service declares the manifest's weight for the tag, the
scale weighs the truck as it is, and the lane holds it on the deck for an officer; with
the entry camera, its plate is not the one on file for the tag and it is held at the
approach before it reaches the deck."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import AsyncExitStack

import pytest

from controller.core.commands import PublishEvent
from controller.core.types import ApproachStage, LaneState
from devices.transport.base import MemoryHub
from devices.transport.modbus import ModbusLinks
from emulators.base import EmulatedClock, Model, run_models
from emulators.world import Behaviour, Truck
from simulation.engine import SimLane, build_lane


async def run_until(
    *, camera: bool, held_when: Callable[[PublishEvent], bool]
) -> tuple[SimLane, Truck, list[str]]:
    """One lane with a swapped-tag truck, through the full polling stack, until the
    lane says it is held (`held_when`); the lane, the truck and the event types seen."""
    physics: list[Model] = []
    seen: list[str] = []
    async with AsyncExitStack() as stack:
        lane = await build_lane(
            0,
            5,
            MemoryHub(),
            ModbusLinks(),
            misbehave=0.0,
            stack=stack,
            physics=physics,
            camera=camera,
        )
        world = lane.emulated.world
        truck = world.spawn(world.make_truck(Behaviour.SWAPPED_TAG))
        lane.identity.swapped_tags.add(truck.tag_hex)
        held = asyncio.Event()

        def on_event(_lane: str, event: PublishEvent) -> None:
            seen.append(event.type)
            if held_when(event):
                held.set()

        lane.runtime.listeners.append(on_event)
        async with asyncio.TaskGroup() as tg:
            tasks = [
                tg.create_task(run_models(physics, EmulatedClock(), 0.05)),
                tg.create_task(lane.runtime.run()),
            ]
            if lane.camera is not None:
                tasks.append(tg.create_task(lane.camera.run(lane.runtime)))
            async with asyncio.timeout(120):
                await held.wait()
            for task in tasks:
                task.cancel()
        lane.clearance.cancel_all()
    return lane, truck, seen


@pytest.mark.looptime
async def test_a_swapped_tag_is_held_out_of_tolerance_and_not_cleared() -> None:
    lane, truck, _ = await run_until(
        camera=False,
        held_when=lambda e: e.type == "state_changed" and e.data["state"] == "hold",
    )
    core = lane.runtime.core
    assert core is not None
    assert core.state == LaneState.HOLD
    assert core.deck is not None
    assert core.deck.tag == truck.tag_hex
    assert core.deck.gross_kg is not None
    assert abs(core.deck.gross_kg - truck.gross_kg) <= 100  # weighed as it is
    assert core.deck.hold_reason == (
        f"weight out of tolerance: {core.deck.gross_kg} kg vs declared {truck.gross_kg + 8000} kg"
    )
    assert not lane.journal.transactions  # nothing committed: an officer decides
    assert "lane_held" in lane.runtime.alarms


@pytest.mark.looptime
async def test_with_the_camera_a_swapped_tag_is_held_before_the_deck() -> None:
    lane, truck, seen = await run_until(
        camera=True,
        held_when=lambda e: e.type == "alarm" and e.data["code"] == "identity_mismatch",
    )
    core = lane.runtime.core
    assert core is not None
    assert core.approach is not None
    assert core.approach.stage == ApproachStage.MISMATCH
    assert core.approach.tag == truck.tag_hex
    best = core.approach.best_read()
    assert best is not None
    assert best.plate == truck.plate  # the camera read the truck as it is
    assert core.approach.expected_plate == truck.papers_plate != truck.plate
    assert core.deck is None
    assert "vehicle_admitted" not in seen
    assert truck.front < 0  # still before the entry arm
    assert lane.identity.caught_before_deck == {truck.tag_hex}
