"""`LaneRuntime.booted` (what READY=1 waits for): set once the lane has left BOOTING with
its red lights on the I/O module, or has faulted at boot; never while still booting."""

from __future__ import annotations

import asyncio

import pytest

from controller.core.types import LaneState
from tests.controller.runtime.harness import EmulatedLane
from tests.controller.runtime.test_lane_runtime import state


@pytest.mark.looptime
async def test_booted_means_out_of_boot_with_the_reds_on_the_wire() -> None:
    lane = EmulatedLane()
    seen: list[tuple[LaneState | None, bool, bool, bool]] = []

    async def watch() -> None:
        await lane.runtime.booted.wait()
        io = lane.io_model
        seen.append((state(lane), io.output(0), io.output(2), io.output(1) or io.output(3)))

    task = asyncio.create_task(lane.run())
    try:
        assert not lane.runtime.booted.is_set()
        async with asyncio.timeout(10):
            await watch()
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    [(booted_state, entry_red, exit_red, any_green)] = seen
    assert booted_state not in (None, LaneState.BOOTING)
    assert entry_red
    assert exit_red
    assert not any_green


@pytest.mark.looptime
async def test_a_lane_whose_io_module_is_dead_is_booted_once_it_faulted() -> None:
    lane = EmulatedLane()
    lane.hub.modbus.pop("io")  # the I/O module never answers
    task = asyncio.create_task(lane.run())
    try:
        loop = asyncio.get_running_loop()
        started = loop.time()
        async with asyncio.timeout(30):
            await lane.runtime.booted.wait()
        waited = loop.time() - started
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert state(lane) == LaneState.FAULT
    assert waited >= lane.runtime.setup.params.boot_timeout_s  # not before boot gave up
