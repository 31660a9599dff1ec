"""The UHF RFID reader driver over a serial `ByteStream` (DESIGN 5.4).

Answer mode: `inventory()` sends one inventory command and collects the reply, following
"more frames follow" (status 0x03) until the last; pushed frames met meanwhile (a reader
left in scan mode) are kept for `read_pushed`. Every frame is stamped with its arrival
time from the injected clock, so a byte gap inside a frame loses sync as on a real line.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable

from controller.errors import DeviceProtocolError, DeviceTimeout
from devices.rfid.codec import (
    PUSH_RECMD,
    RfidCommand,
    RfidResponse,
    RfidStatus,
    RfidStreamParser,
    encode_command,
    parse_inventory,
)
from devices.transport.base import ByteStream

MORE_FRAMES = RfidStatus.MORE_FRAMES


class RfidDriver:
    def __init__(
        self,
        stream: ByteStream,
        name: str = "rfid",
        address: int = 0,
        clock: Callable[[], float] | None = None,
        timeout_s: float = 0.5,
    ) -> None:
        self.stream, self.name, self.address, self.timeout_s = stream, name, address, timeout_s
        self._clock = clock
        self._parser = RfidStreamParser(name)
        self._frames: deque[RfidResponse] = deque()
        self.pushed: deque[bytes] = deque(maxlen=256)
        self.protocol_errors = 0

    def _now(self) -> float:
        return self._clock() if self._clock is not None else asyncio.get_running_loop().time()

    async def _frame(self) -> RfidResponse:
        while not self._frames:
            chunk = await self.stream.read(1024)
            for item in self._parser.feed(chunk, self._now()):
                if isinstance(item, DeviceProtocolError):
                    self.protocol_errors += 1
                elif item.recmd == PUSH_RECMD:
                    self.pushed.append(item.data)
                else:
                    self._frames.append(item)
        return self._frames.popleft()

    async def _request(self, command: int, data: bytes = b"") -> list[RfidResponse]:
        self.stream.discard_input()
        self._frames.clear()
        await self.stream.write(encode_command(self.address, command, data))
        replies: list[RfidResponse] = []
        try:
            async with asyncio.timeout(self.timeout_s):
                while True:
                    reply = await self._frame()
                    if reply.recmd != command:
                        continue  # a stray answer to something else: not ours
                    replies.append(reply)
                    if reply.status != MORE_FRAMES:
                        return replies
        except TimeoutError:
            raise DeviceTimeout(self.name, f"no answer to command {command:#04x}") from None

    async def inventory(self) -> tuple[bytes, ...]:
        epcs: list[bytes] = []
        for reply in await self._request(RfidCommand.INVENTORY):
            epcs.extend(parse_inventory(self.name, reply))
        return tuple(epcs)

    async def reader_info(self) -> bytes:
        [reply] = (await self._request(RfidCommand.READER_INFO))[-1:]
        if reply.status != RfidStatus.OK:
            raise DeviceProtocolError(self.name, f"reader info status {reply.status:#04x}")
        return reply.data

    async def read_pushed(self) -> bytes:
        """Scan mode: the next EPC the reader pushes."""
        while not self.pushed:
            try:
                async with asyncio.timeout(self.timeout_s):
                    self._frames.append(await self._frame())
            except TimeoutError:
                raise DeviceTimeout(self.name, "no tag pushed") from None
        return self.pushed.popleft()
