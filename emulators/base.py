"""What every emulated device model offers, and the ticker that advances them.

Theory of operation: a model is pure physics (Lewis style): its state changes only in
`advance(dt)` (dt in emulated seconds) and through the calls its wire interface or the
world makes. The ticker is the one place that turns event-loop time into `dt`, scaled by
`time_scale` so tests that cross processes can run the physics faster than real time.
Ticks are scheduled at absolute deadlines, so sleep overshoot does not accumulate.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from types import TracebackType
from typing import Protocol, Self


class Model(Protocol):
    def advance(self, dt: float) -> None: ...


class EmulatedClock:
    """Emulated time: event-loop time scaled by `time_scale` since the clock started."""

    def __init__(self, time_scale: float = 1.0) -> None:
        if time_scale <= 0:
            raise ValueError(f"time_scale: must be > 0, got {time_scale}")
        self.time_scale = time_scale
        self._loop = asyncio.get_running_loop()
        self._start = self._loop.time()

    def now(self) -> float:
        return (self._loop.time() - self._start) * self.time_scale


async def run_models(models: Sequence[Model], clock: EmulatedClock, period_s: float = 0.01) -> None:
    """Advance `models` every `period_s` of loop time until cancelled."""
    loop = asyncio.get_running_loop()
    last = clock.now()
    deadline = loop.time()
    while True:
        deadline += period_s
        await asyncio.sleep(max(0.0, deadline - loop.time()))
        now = clock.now()
        for model in models:
            model.advance(now - last)
        last = now


class StartStopServer:
    """`async with server:` for a server with `start()` and `close()` (the Modbus TCP
    server, the RS-485 bus on a pty)."""

    async def start(self) -> None:
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()
