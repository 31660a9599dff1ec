"""One bounded device exchange: the drivers' shared timeout policy.

Links that enforce their own timeout per request (pymodbus) mark their units `bounded`,
and get no second timer per call; others (in-memory, anything new) are bounded here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

from controller.errors import DeviceTimeout

T = TypeVar("T")


class Bounded:
    def __init__(self, unit: object, name: str, timeout_s: float) -> None:
        self.name, self.timeout_s = name, timeout_s
        self._unit_bounded = bool(getattr(unit, "bounded", False))

    async def __call__(self, call: Awaitable[T]) -> T:
        if self._unit_bounded:
            return await call
        try:
            async with asyncio.timeout(self.timeout_s):
                return await call
        except TimeoutError as error:
            raise DeviceTimeout(self.name, f"no answer within {self.timeout_s}s") from error
