"""The weight indicator driver over a serial `ByteStream` (DESIGN 5.3).

Toledo indicators talk continuously (~10 frames/s): `read_reading` returns the newest
good frame that arrives, skipping stale ones already buffered. SMA indicators answer a
`W` request. Bad bytes never escape as anything but `DeviceProtocolError`: when no good
frame arrives in time and garbage did, the error names the bytes; when nothing arrived,
it is a `DeviceTimeout`.
"""

from __future__ import annotations

import asyncio
from typing import Literal

from controller.errors import DeviceProtocolError, DeviceTimeout
from devices.scale.codec import (
    SmaCommand,
    SmaStreamParser,
    ToledoStreamParser,
    WeightReading,
    encode_sma_command,
    encode_toledo_command,
)
from devices.transport.base import ByteStream


class ScaleDriver:
    def __init__(
        self,
        stream: ByteStream,
        name: str = "scale",
        protocol: Literal["toledo", "sma"] = "toledo",
    ) -> None:
        self.stream, self.name, self.protocol = stream, name, protocol
        self._parser = ToledoStreamParser(name) if protocol == "toledo" else SmaStreamParser(name)
        self.protocol_errors = 0
        self.last_error: DeviceProtocolError | None = None

    async def read_reading(self, timeout_s: float = 0.5) -> WeightReading:
        if self.protocol == "sma":
            self.stream.discard_input()
            await self.stream.write(encode_sma_command(SmaCommand.WEIGHT))
        try:
            async with asyncio.timeout(timeout_s):
                return await self._next_good()
        except TimeoutError:
            if self.last_error is not None:
                error, self.last_error = self.last_error, None
                raise error from None
            raise DeviceTimeout(self.name, f"no weight frame within {timeout_s}s") from None

    async def _next_good(self) -> WeightReading:
        while True:
            chunk = await self.stream.read(4096)
            readings = []
            for item in self._parser.feed(chunk):
                if isinstance(item, DeviceProtocolError):
                    self.protocol_errors += 1
                    self.last_error = self.last_error or item  # the first tells most
                else:
                    readings.append(item)
            if readings:
                self.last_error = None
                return readings[-1]  # the newest: older frames are already stale

    async def _command(self, letter: Literal["Z", "T", "C"]) -> None:
        if self.protocol == "toledo":
            await self.stream.write(encode_toledo_command(letter))
        else:
            await self.stream.write(encode_sma_command(SmaCommand(letter)))

    async def zero(self) -> None:
        await self._command("Z")

    async def tare(self) -> None:
        await self._command("T")

    async def clear_tare(self) -> None:
        await self._command("C")
