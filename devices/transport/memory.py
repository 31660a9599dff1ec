"""In-memory transports: a Modbus link that calls an emulator's responder directly, and a
byte pipe that stands in for a serial line.

Theory of operation: no bytes cross for Modbus; the request is handed to the registered
`ModbusResponder` as a PDU-level `ModbusRequest`, and its answer or refusal is mapped to
exactly what the pymodbus link would give a driver (values, `DeviceRefused`,
`DeviceTimeout`, `DeviceBroken`). An answer costs no turn of the event loop (the
callers are poll loops that wait between polls anyway, and a simulation polls 40 times a
lane-second); silence costs the link's timeout, so a unit needs no timeout of its own.
The pipe is two
ends over asyncio queues; closing one end breaks the other's reads.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from controller.errors import DeviceBroken, DeviceClosed, DeviceRefused, DeviceTimeout
from devices.transport.base import (
    MemoryHub,
    ModbusExceptionReply,
    ModbusFunction,
    ModbusRequest,
)

F = ModbusFunction


class MemoryModbusLink:
    """`memory://NAME`: one link to a responder registered in a hub."""

    def __init__(self, hub: MemoryHub, name: str, timeout_s: float = 0.3) -> None:
        self.hub, self.name, self.timeout_s = hub, name, timeout_s
        self.closed = False

    def unit(self, device_id: int) -> MemoryUnit:
        return MemoryUnit(self, device_id)

    async def connect(self) -> None:
        if self.name not in self.hub.modbus:
            raise DeviceBroken(f"memory://{self.name}", "nothing served at this name")

    async def close(self) -> None:
        self.closed = True

    async def execute(self, unit: int, request: ModbusRequest) -> tuple[int, ...]:
        where = f"memory://{self.name}/{unit}"
        if self.closed:
            raise DeviceClosed(where, "link closed")
        responder = self.hub.modbus.get(self.name)
        if responder is None:
            raise DeviceBroken(where, "nothing served at this name")
        try:
            return responder.respond(unit, request)
        except ModbusExceptionReply as reply:
            raise DeviceRefused(
                where, f"function {int(request.function)}", int(reply.code)
            ) from reply
        except TimeoutError:
            await asyncio.sleep(self.timeout_s)  # silence costs the client its timeout
            raise DeviceTimeout(where, f"no reply within {self.timeout_s}s") from None


class MemoryUnit:
    # a silent responder costs exactly the link's timeout and then raises, so the drivers
    # need no timeout scope of their own around each call (one per poll, 40 a lane-second)
    bounded = True

    def __init__(self, link: MemoryModbusLink, device_id: int) -> None:
        self._link, self._id = link, device_id

    @property
    def name(self) -> str:
        return f"memory://{self._link.name}/{self._id}"

    async def _call(self, request: ModbusRequest) -> tuple[int, ...]:
        return await self._link.execute(self._id, request)

    async def read_coils(self, address: int, count: int) -> list[bool]:
        return [bool(v) for v in await self._call(ModbusRequest(F.READ_COILS, address, count))]

    async def read_discrete_inputs(self, address: int, count: int) -> list[bool]:
        values = await self._call(ModbusRequest(F.READ_DISCRETE_INPUTS, address, count))
        return [bool(v) for v in values]

    async def read_holding_registers(self, address: int, count: int) -> list[int]:
        return list(await self._call(ModbusRequest(F.READ_HOLDING_REGISTERS, address, count)))

    async def read_input_registers(self, address: int, count: int) -> list[int]:
        return list(await self._call(ModbusRequest(F.READ_INPUT_REGISTERS, address, count)))

    async def write_coil(self, address: int, value: bool) -> None:
        await self._call(ModbusRequest(F.WRITE_SINGLE_COIL, address, 1, (int(value),)))

    async def write_coils(self, address: int, values: Sequence[bool]) -> None:
        bits = tuple(int(v) for v in values)
        await self._call(ModbusRequest(F.WRITE_MULTIPLE_COILS, address, len(bits), bits))

    async def write_register(self, address: int, value: int) -> None:
        await self._call(ModbusRequest(F.WRITE_SINGLE_REGISTER, address, 1, (value,)))

    async def write_registers(self, address: int, values: Sequence[int]) -> None:
        regs = tuple(values)
        await self._call(ModbusRequest(F.WRITE_MULTIPLE_REGISTERS, address, len(regs), regs))


class PipeEnd:
    """One end of an in-memory serial line."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._inbox: asyncio.Queue[bytes] = asyncio.Queue()
        self.peer: PipeEnd | None = None
        self.closed = False
        self._broken = False

    @property
    def name(self) -> str:
        return self._name

    async def write(self, data: bytes) -> None:
        if self.closed:
            raise DeviceClosed(self._name, "pipe end closed")
        peer = self.peer
        if peer is None or peer.closed:
            raise DeviceBroken(self._name, "the other end is gone")
        if data:
            peer._inbox.put_nowait(bytes(data))

    async def read(self, max_bytes: int = 4096) -> bytes:
        if self.closed:
            raise DeviceClosed(self._name, "pipe end closed")
        if self._broken and self._inbox.empty():
            raise DeviceBroken(self._name, "the other end closed")
        chunk = await self._inbox.get()
        if not chunk:  # the sentinel the other end leaves when it closes
            self._broken = True
            raise DeviceBroken(self._name, "the other end closed")
        if len(chunk) > max_bytes:
            chunk, rest = chunk[:max_bytes], chunk[max_bytes:]
            self._requeue_front(rest)
        return chunk

    def _requeue_front(self, rest: bytes) -> None:
        pending = [rest]
        while not self._inbox.empty():
            pending.append(self._inbox.get_nowait())
        for item in pending:
            self._inbox.put_nowait(item)

    def discard_input(self) -> None:
        while not self._inbox.empty():
            if not self._inbox.get_nowait():
                self._broken = True

    async def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        if self.peer is not None:
            self.peer._inbox.put_nowait(b"")


def memory_pipe(name: str) -> tuple[PipeEnd, PipeEnd]:
    """Two connected ends: (device end, controller end)."""
    device, controller = PipeEnd(f"memory://{name}#device"), PipeEnd(f"memory://{name}")
    device.peer, controller.peer = controller, device
    return device, controller
