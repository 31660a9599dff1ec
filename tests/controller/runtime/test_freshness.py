"""S7 in the runtime: a device that goes silent is found stale at its budget and the lane's
lights are red on the wire within safe_ms of it; the checker's schedule never sleeps past
a healthy device's deadline."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given
from hypothesis import strategies as st

from controller.core.types import Device
from controller.runtime.health import CHECK_MARGIN_S, Freshness
from devices.transport.base import ModbusRequest, ModbusResponder
from tests.controller.runtime.harness import EmulatedLane
from tests.controller.runtime.test_lane_runtime import state, wait_for

SAFE_S = 0.25  # DESIGN S7: safe_ms


def healthy(lane: EmulatedLane, device: str) -> bool:
    return bool(lane.runtime.freshness.snapshot()[device]["healthy"])


class Muted:
    """A bus whose units can be silenced (the client sees timeouts)."""

    def __init__(self, inner: ModbusResponder) -> None:
        self.inner, self.silent = inner, set[int]()

    def respond(self, unit: int, request: ModbusRequest) -> tuple[int, ...]:
        if unit in self.silent:
            raise TimeoutError
        return self.inner.respond(unit, request)


@pytest.mark.looptime
async def test_a_silent_barrier_turns_a_green_light_red_within_safe_ms() -> None:
    lane = EmulatedLane()
    bus = lane.hub.modbus["rs485"] = Muted(lane.hub.modbus["rs485"])
    loop = asyncio.get_running_loop()
    task = asyncio.create_task(lane.run())
    try:
        await wait_for(lambda: state(lane) is not None, 10, lane)
        lane.world.spawn(lane.world.make_truck())
        await wait_for(lambda: lane.io_model.output(1), 60, lane)  # entry green
        bus.silent.add(1)
        await wait_for(lambda: not healthy(lane, "entry_barrier"), 5, lane)
        stale_at = loop.time()
        await wait_for(lambda: lane.io_model.output(0) and not lane.io_model.output(1), 5, lane)
        red_at = loop.time()
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    last_ok = lane.runtime.freshness.snapshot()["entry_barrier"]["last_ok"]
    assert isinstance(last_ok, float)
    budget = lane.runtime.setup.fresh_s[Device.ENTRY_BARRIER]
    assert budget < stale_at - last_ok <= budget + CHECK_MARGIN_S + 0.001
    assert red_at - last_ok <= budget + SAFE_S


budgets = st.floats(0.05, 2.0)


@given(
    st.lists(st.tuples(budgets, st.none() | st.floats(0, 10), st.booleans()), min_size=1),
    st.floats(0, 10),
)
def test_the_checker_wakes_by_every_healthy_devices_deadline(
    devices: list[tuple[float, float | None, bool]], now: float
) -> None:
    names = list(Device)[: len(devices)]
    freshness = Freshness({n: fresh for n, (fresh, _, _) in zip(names, devices, strict=False)})
    known = [(n, t, h) for n, (_, t, h) in zip(names, devices, strict=False) if t is not None]
    for name, last_ok, _ in (d for d in known if not d[2]):
        freshness.ok(name, min(last_ok, now))
    freshness.stale(now + 100)  # those went stale since: no deadline of their own
    for name, last_ok, _ in (d for d in known if d[2]):
        freshness.ok(name, min(last_ok, now))
    wake = freshness.next_check(now)
    assert now <= wake <= now + min(fresh for fresh, _, _ in devices[: len(names)])
    budgets = {n.value: fresh for n, (fresh, _, _) in zip(names, devices, strict=False)}
    for device, status in freshness.snapshot().items():
        seen = status["last_ok"]
        if status["healthy"] and isinstance(seen, float):
            assert wake <= max(now, seen + budgets[device] + CHECK_MARGIN_S)
