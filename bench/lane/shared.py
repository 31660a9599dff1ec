"""What every lane benchmark shares: constants, run helpers, rows and settings."""

from __future__ import annotations

import asyncio
import math
import socket
import sys
import types
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any, TypeVar

from controller.core.types import (
    Device,
)
from controller.runtime.virtual_loop import VirtualTimeLoop
from emulators.world import Behaviour, World
from simulation.engine import (
    SIM_EPOCH_S,
)

T = TypeVar("T")
SHARED = (type, types.ModuleType, types.FunctionType, types.BuiltinFunctionType, Enum)
CLEARANCE_MEDIAN_S = 3.0  # DESIGN 3 default, as `gatectl simulate` uses it
QUEUE = 2  # `gatectl simulate`'s saturated queue: two trucks waiting, checked every second
POLL_MS = 50
REACTION_TARGET_MS = POLL_MS + 20
SAFE_MS = 250
WIRE_PHYSICS = {  # emulation overrides of the real-time runs: a ~10 s truck cycle
    "truck_speed_kmh": 40.0,
    "barrier_travel_s": 1.0,
    "driver_reaction_s": 0.3,
    "scale_settle_s": 0.5,
}
WIRE_CLEARANCE_MEDIAN_S = 1.0  # keeps clearance off the shorter cycle's critical path
# physics step of the real-time runs (~32 Hz; `gatectl simulate` steps at 20 Hz): off the
# 50 ms polling grid, and light enough that the emulators sharing the loop weigh little
WIRE_TICK_S = 0.0313
WIRE_LINK_TIMEOUT_S = 0.3  # as `gatectl run` opens its Modbus links
STAGGER_S = 4.0  # the lanes' runtimes start spread over this long
STOP_TIMEOUT_S = 2.0  # a cancelled task still running after this is reported as stuck
STALL_S = 600.0  # no vehicle out in the last ten simulated minutes: the lane stalled
ABANDONED: list[asyncio.Task[Any]] = []  # tasks that ignored cancellation: kept, not destroyed
REACTION_MISS_S = 2.0  # a green still on this long after presence at its arm: a miss
SILENT = {  # wire FaultBook -> the devices that go silent with it, and how long
    "scale": ((Device.SCALE,), 1.0),
    "rs485": ((Device.ENTRY_BARRIER, Device.EXIT_BARRIER), 1.0),
    "rfid": ((Device.RFID,), 1.6),
}


def run_virtual(coro: Coroutine[Any, Any, T]) -> T:
    """Run `coro` on a virtual-time loop, as `gatectl simulate` does."""
    loop = VirtualTimeLoop()
    try:
        result: T = loop.run_until_complete(coro)
        return result
    finally:
        loop.close()


def run_real(coro: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run`, except that a task which ignores cancellation at the end is left
    behind (the lane runs count and report them) instead of hanging the bench."""
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(coro)
    finally:
        pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
        for task in pending:
            task.cancel()
        if pending:
            loop.run_until_complete(asyncio.wait(pending, timeout=1.0))
        ABANDONED.extend(t for t in pending if not t.done())
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()


def _report_stuck(tasks: Sequence[asyncio.Task[Any]]) -> None:
    ABANDONED.extend(tasks)
    if tasks:
        print(
            f"bench.lane: {len(tasks)} lane runtimes still running {STOP_TIMEOUT_S} s after "
            "cancel (a cancellation lost in a device exchange; left behind)",
            file=sys.stderr,
        )


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..1): with fewer than 1/(1-q) samples, the maximum."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def ms(value: float | None) -> float | None:
    return None if value is None else round(value * 1000, 1)


def wall_clock() -> float:
    """Signed clearance decisions carry wall-clock times: the loop's, from a fixed epoch."""
    return SIM_EPOCH_S + asyncio.get_running_loop().time()


async def saturate(world: World, period_s: float) -> None:
    """Keep the queue full of obedient trucks (`gatectl simulate`'s traffic rule)."""
    while True:
        if world.queue_length < QUEUE:
            world.spawn(world.make_truck(Behaviour.OBEY))
        await asyncio.sleep(period_s)


def vm_rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Row:
    figure: str
    value: object
    target: str = ""
    ok: bool | None = None
    unit: str = ""


PartResult = tuple[list[Row], dict[str, object]]  # a part's rows, and its details


@dataclass
class Settings:
    quick: bool
    seed: int = 1

    @property
    def capacity_hours(self) -> float:
        return 0.5 if self.quick else 4.0

    @property
    def sim_hours(self) -> float:
        return 1.0 if self.quick else 24.0
