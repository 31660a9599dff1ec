"""Modbus TCP server adapter: serves one `ModbusResponder` (the I/O module) on a TCP port.

Theory of operation: an asyncio Protocol per connection reassembles MBAP frames
(`tid | protocol 0 | length | unit | PDU`) from the byte stream, answers each through
`modbus_wire.answer`, and writes the reply through the connection's `Outbox`, so replies
leave in request order at their deadlines. A frame with a protocol id other than 0 or an
impossible length drops the connection, as devices do. Wire faults (DESIGN 5, FaultBook):
no reply, late reply (`delay_s`), corrupt (the MBAP protocol id of the reply is spoiled:
TCP has its own checksum, so a corrupt Modbus TCP reply is one the client must reject),
garbage bytes instead of the reply, split frames (two writes `SPLIT_GAP_S` apart),
an exception code, and disconnect (every connection is dropped and new ones are reset at
once until the fault is no longer armed).

Why not pymodbus's ModbusTcpServer (3.16.1): its `action` hook may not await and its
`trace_packet` hook is synchronous and knows neither the connection nor the loop, so a
late or split reply, a disconnect and refused connections need its private request
handler; its simulator passes register counts, not bit counts, to the hook for coil
reads, so requests cannot be checked against the device map. This server is small,
speaks plain Modbus TCP (pymodbus and libmodbus clients are tested against it), and
shares its PDU codec and fault semantics with the RTU bus.

`models` (optional) are advanced on the adapter's clock while it serves, so a standalone
emulator keeps its physics (the I/O watchdog) running; a world that ticks its own models
passes none.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import struct
from collections.abc import Sequence
from typing import cast

from devices.modbus.rtu import encode_exception_pdu
from devices.transport.base import ModbusResponder
from emulators.base import EmulatedClock, Model, StartStopServer, run_models
from emulators.faults import FaultBook, FaultSpec
from emulators.modbus_wire import Outbox, WireFaults, WirePlan, WireStats, answer

MBAP = struct.Struct(">HHHB")
SPLIT_GAP_S = 0.02
_SPOILED_PROTOCOL = 0xFFFF


class ModbusTcpServer(StartStopServer):
    def __init__(
        self,
        responder: ModbusResponder,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        faults: FaultBook | None = None,
        clock: EmulatedClock | None = None,
        models: Sequence[Model] = (),
        name: str = "modbus-tcp",
        seed: int = 0,
    ) -> None:
        self.responder = responder
        self.host = host
        self.port = port
        self.faults = faults or FaultBook()
        self.name = name
        self.stats = WireStats()
        self._clock = clock
        self._models = models
        self._rng = random.Random(seed)  # noqa: S311 - garbage bytes, not cryptography
        self._server: asyncio.Server | None = None
        self._ticker: asyncio.Task[None] | None = None
        self.connections: set[_Connection] = set()
        self.wire: WireFaults

    @property
    def clock(self) -> EmulatedClock:
        if self._clock is None:
            raise RuntimeError(f"{self.name}: not started")
        return self._clock

    def inject(self, spec: FaultSpec) -> None:
        """Inject a wire fault from now (the server's emulated time)."""
        self.faults.inject(spec, self.clock.now())

    @property
    def url(self) -> str:
        return f"modbus-tcp://{self.host}:{self.port}"

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._clock = self._clock or EmulatedClock()
        self.wire = WireFaults(self.faults, self._clock.now)
        self._server = await loop.create_server(
            lambda: _Connection(self), self.host, self.port, reuse_address=True
        )
        self.port = self._server.sockets[0].getsockname()[1]
        if self._models:
            self._ticker = loop.create_task(run_models(self._models, self._clock))

    async def close(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
            self._ticker = None
        if self._server is not None:
            self._server.close()
            self.drop_connections()
            await self._server.wait_closed()
            self._server = None

    def drop_connections(self) -> None:
        for connection in list(self.connections):
            connection.drop()

    def handle_frame(self, connection: _Connection, frame: bytes) -> None:
        tid, _protocol, _length, unit = MBAP.unpack_from(frame)
        self.stats.requests += 1
        plan = self.wire.plan(unit)
        if plan.disconnect:
            self.drop_connections()
            return
        data = self._reply(plan, tid, unit, frame[MBAP.size :])
        if data is None:
            self.stats.silent += 1
            return
        self.stats.replies += 1
        when = asyncio.get_running_loop().time() + plan.delay_s
        if plan.split:
            cut = len(data) // 2
            connection.outbox.send_at(when, data[:cut])
            connection.outbox.send_at(when + SPLIT_GAP_S, data[cut:])
        else:
            connection.outbox.send_at(when, data)

    def _reply(self, plan: WirePlan, tid: int, unit: int, pdu: bytes) -> bytes | None:
        if not plan.reply:
            return None
        if plan.garbage_bytes:
            return self._rng.randbytes(plan.garbage_bytes)
        if plan.exception_code is not None:
            reply: bytes | None = encode_exception_pdu(pdu[0], plan.exception_code)
        else:
            reply = answer(self.responder, self.name, unit, pdu)
        if reply is None:
            return None
        protocol = _SPOILED_PROTOCOL if plan.corrupt else 0
        return MBAP.pack(tid, protocol, len(reply) + 1, unit) + reply


class _Connection(asyncio.Protocol):
    def __init__(self, server: ModbusTcpServer) -> None:
        self.server = server
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None
        self.outbox: Outbox

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        self.outbox = Outbox(self.transport.write)
        if self.server.wire.disconnected():
            self.transport.abort()
            return
        self.server.connections.add(self)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while (frame := self._next_frame()) is not None:
            self.server.handle_frame(self, frame)
            if self.transport is None or self.transport.is_closing():
                return

    def _next_frame(self) -> bytes | None:
        if len(self.buffer) < MBAP.size:
            return None
        _tid, protocol, length, _unit = MBAP.unpack_from(self.buffer)
        if protocol != 0 or not 2 <= length <= 254:
            self.server.stats.errors += 1
            self.drop()
            return None
        end = 6 + length
        if len(self.buffer) < end:
            return None
        frame = bytes(self.buffer[:end])
        del self.buffer[:end]
        return frame

    def drop(self) -> None:
        self.buffer.clear()
        self.outbox.close()
        if self.transport is not None:
            self.transport.abort()

    def connection_lost(self, exc: Exception | None) -> None:
        self.outbox.close()
        self.server.connections.discard(self)
