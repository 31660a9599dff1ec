"""Runtime settings that act: each barrier's own poll period, the SMA request period,
and S7's `safe_ms` deadline, measured on every reaction to a stale device."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from controller.core.types import Side
from controller.runtime.setup import ScalePort, WeightReadingLike
from devices.transport.base import ModbusRequest, ModbusResponder
from tests.controller.runtime.harness import EmulatedLane
from tests.controller.runtime.test_freshness import Muted, healthy
from tests.controller.runtime.test_lane_runtime import state, wait_for


class Counting:
    """A bus that counts the requests each unit is sent."""

    def __init__(self, inner: ModbusResponder) -> None:
        self.inner, self.requests = inner, Counter[int]()

    def respond(self, unit: int, request: ModbusRequest) -> tuple[int, ...]:
        self.requests[unit] += 1
        return self.inner.respond(unit, request)


async def _run_for(lane: EmulatedLane, seconds: float) -> None:
    task = asyncio.create_task(lane.run())
    try:
        await wait_for(lambda: state(lane) is not None, 10, lane)
        await asyncio.sleep(seconds)  # virtual time: the polls in this window are counted
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


@pytest.mark.looptime
async def test_each_barrier_is_polled_at_its_own_period() -> None:
    lane = EmulatedLane()
    lane.runtime.setup.barrier_poll_s = {Side.ENTRY: 0.1, Side.EXIT: 0.4}
    bus = lane.hub.modbus["rs485"] = Counting(lane.hub.modbus["rs485"])
    await _run_for(lane, 20)
    entry, exit_ = bus.requests[1], bus.requests[2]
    assert 180 <= entry <= 230  # one status read per 100 ms, with the boot's extra reads
    assert 45 <= exit_ <= 60
    assert entry / exit_ == pytest.approx(4, rel=0.15)


class CountingScale:
    """The harness's scale, counting weight requests."""

    def __init__(self, inner: ScalePort) -> None:
        self.inner, self.requests = inner, 0

    async def read_reading(self, timeout_s: float) -> WeightReadingLike:
        self.requests += 1
        return await self.inner.read_reading(timeout_s)

    async def zero(self) -> None:
        await self.inner.zero()


@pytest.mark.looptime
async def test_an_sma_scale_is_asked_at_its_request_period() -> None:
    lane = EmulatedLane()
    scale = CountingScale(lane.runtime.setup.scale)
    lane.runtime.setup.scale = scale
    lane.runtime.setup.scale_request_s = 0.25
    await _run_for(lane, 10)
    assert 38 <= scale.requests <= 44  # 4 a second, not as fast as it answers


async def _react_to_a_silent_barrier(lane: EmulatedLane) -> None:
    bus = lane.hub.modbus["rs485"] = Muted(lane.hub.modbus["rs485"])
    task = asyncio.create_task(lane.run())
    try:
        await wait_for(lambda: state(lane) is not None, 10, lane)
        lane.world.spawn(lane.world.make_truck())
        await wait_for(lambda: lane.io_model.output(1), 60, lane)  # entry green
        bus.silent.add(1)
        await wait_for(lambda: not healthy(lane, "entry_barrier"), 5, lane)
        await wait_for(lambda: lane.io_model.output(0) and not lane.io_model.output(1), 5, lane)
        await wait_for(lambda: lane.runtime.io.safe_due is None, 5, lane)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


@pytest.mark.looptime
async def test_a_reaction_within_safe_ms_raises_no_alarm() -> None:
    lane = EmulatedLane()
    await _react_to_a_silent_barrier(lane)
    assert "s7_deadline_missed" not in lane.runtime.alarms


@pytest.mark.looptime
async def test_a_reaction_later_than_safe_ms_raises_an_alarm() -> None:
    lane = EmulatedLane()
    # the check looks 1 ms after the budget runs out: a 0.5 ms deadline is always missed
    lane.runtime.setup.safe_s = 0.0005
    await _react_to_a_silent_barrier(lane)
    alarm = lane.runtime.alarms["s7_deadline_missed"]
    assert "after the S7 deadline (safe_ms)" in alarm
