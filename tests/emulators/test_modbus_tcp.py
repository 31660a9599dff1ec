"""The I/O module served over Modbus TCP, answered by a real pymodbus client and raw bytes."""

from __future__ import annotations

import asyncio
import struct
from collections.abc import AsyncIterator, Callable

import pytest
from pymodbus.client import AsyncModbusTcpClient
from pymodbus.exceptions import ModbusException

from emulators.faults import FaultKind, FaultSpec, Trigger
from emulators.io.interface import IoInterface
from emulators.io.model import IoModel
from emulators.modbus_tcp import ModbusTcpServer

SAFE = 0b0101
READ_HOLDING = bytes.fromhex("03100000 03".replace(" ", ""))


@pytest.fixture
async def model() -> IoModel:
    return IoModel(safe_pattern=SAFE)


@pytest.fixture
async def server(model: IoModel) -> AsyncIterator[ModbusTcpServer]:
    async with ModbusTcpServer(IoInterface(model), models=[model]) as served:
        yield served


@pytest.fixture
async def client(server: ModbusTcpServer) -> AsyncIterator[AsyncModbusTcpClient]:
    client = AsyncModbusTcpClient("127.0.0.1", port=server.port, timeout=0.5, retries=0)
    assert await client.connect()
    yield client
    client.close()


def inject(server: ModbusTcpServer, kind: FaultKind, **params: object) -> None:
    server.inject(FaultSpec.model_validate({"kind": kind, **params}))


async def raw_exchange(port: int, frames: bytes, reply_bytes: int) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(frames)
        async with asyncio.timeout(2):
            return await reader.readexactly(reply_bytes)
    finally:
        writer.close()


async def closed_by_peer(reader: asyncio.StreamReader) -> bool:
    async with asyncio.timeout(2):
        try:
            return await reader.read() == b""
        except ConnectionResetError:
            return True


async def until(condition: Callable[[], bool]) -> None:
    """Wait (bounded) for a condition another task or the emulator makes true."""
    async with asyncio.timeout(2):
        while True:
            if condition():
                return
            await asyncio.sleep(0.005)


def mbap(tid: int, pdu: bytes, unit: int = 1) -> bytes:
    return struct.pack(">HHHB", tid, 0, len(pdu) + 1, unit) + pdu


async def test_reads_discrete_inputs(model: IoModel, client: AsyncModbusTcpClient) -> None:
    model.set_input(1, True)
    model.set_input(4, True)
    reply = await client.read_discrete_inputs(0, count=16, device_id=1)
    assert not reply.isError()
    assert [i for i, bit in enumerate(reply.bits[:16]) if bit] == [1, 4]


async def test_writes_the_output_image_with_fc15(
    model: IoModel, client: AsyncModbusTcpClient
) -> None:
    reply = await client.write_coils(0, [False, True, True, False], device_id=1)
    assert not reply.isError()
    assert model.outputs == 0b0110
    read = await client.read_coils(0, count=4, device_id=1)
    assert read.bits[:4] == [False, True, True, False]


async def test_identity_registers(client: AsyncModbusTcpClient) -> None:
    reply = await client.read_input_registers(0, count=2, device_id=1)
    assert reply.registers == [0x1214, 0x0100]


async def test_outside_the_map_is_exception_02(client: AsyncModbusTcpClient) -> None:
    reply = await client.read_discrete_inputs(16, count=1, device_id=1)
    assert reply.isError()
    assert reply.exception_code == 2


async def test_watchdog_trips_refuses_writes_and_resets(
    model: IoModel, client: AsyncModbusTcpClient
) -> None:
    await client.write_coils(0, [False, True, False, True], device_id=1)
    assert not (await client.write_registers(0x1000, [50, SAFE], device_id=1)).isError()
    assert (await client.read_holding_registers(0x1000, count=3)).registers == [50, SAFE, 0]
    await until(lambda: model.tripped)
    assert model.outputs == SAFE
    refused = await client.write_coils(0, [False, True], device_id=1)
    assert refused.isError()
    assert refused.exception_code == 4
    assert (await client.read_holding_registers(0x1002, count=1)).registers == [1]
    assert not (await client.write_register(0x1000, 0, device_id=1)).isError()
    assert not (await client.write_register(0x1002, 0, device_id=1)).isError()
    assert not (await client.write_coils(0, [False, True], device_id=1)).isError()


async def test_no_reply_fault_times_the_client_out(
    server: ModbusTcpServer, client: AsyncModbusTcpClient
) -> None:
    inject(server, FaultKind.NO_REPLY, trigger=Trigger(mode="after_frames", frames=1))
    assert not (await client.read_coils(0, count=1)).isError()
    with pytest.raises(ModbusException):
        await client.read_coils(0, count=1)
    assert server.stats.silent == 1


async def test_exception_fault_is_an_error_response(
    model: IoModel, server: ModbusTcpServer, client: AsyncModbusTcpClient
) -> None:
    inject(server, FaultKind.MODBUS_EXCEPTION, exception_code=6)
    reply = await client.write_coils(0, [True], device_id=1)
    assert reply.isError()
    assert reply.exception_code == 6
    assert model.outputs == SAFE  # the request never reached the module


async def test_late_reply_arrives_after_the_delay(server: ModbusTcpServer) -> None:
    inject(server, FaultKind.LATE_REPLY, delay_s=0.15)
    loop = asyncio.get_running_loop()
    started = loop.time()
    reply = await raw_exchange(server.port, mbap(7, READ_HOLDING), 9 + 6)
    assert loop.time() - started >= 0.15
    assert reply[:2] == b"\x00\x07"


async def test_pipelined_requests_are_answered_in_order(server: ModbusTcpServer) -> None:
    inject(server, FaultKind.LATE_REPLY, delay_s=0.05, unit=1)
    frames = mbap(1, READ_HOLDING, unit=1) + mbap(2, bytes.fromhex("0400000002"), unit=2)
    reply = await raw_exchange(server.port, frames, 15 + 13)
    assert reply[:2] == b"\x00\x01"
    assert reply[15:17] == b"\x00\x02"
    assert reply[-4:] == bytes.fromhex("12140100")


async def test_corrupt_and_garbage_replies(server: ModbusTcpServer) -> None:
    inject(server, FaultKind.CORRUPT_CHECKSUM, duration_s=0.5)
    corrupt = await raw_exchange(server.port, mbap(3, READ_HOLDING), 15)
    assert corrupt[2:4] == b"\xff\xff"
    server.faults.clear()
    inject(server, FaultKind.GARBAGE, garbage_bytes=5)
    garbage = await raw_exchange(server.port, mbap(4, READ_HOLDING), 5)
    assert len(garbage) == 5


async def test_split_reply_still_decodes(
    server: ModbusTcpServer, client: AsyncModbusTcpClient
) -> None:
    inject(server, FaultKind.SPLIT_FRAMES)
    reply = await client.read_input_registers(0, count=2, device_id=1)
    assert reply.registers == [0x1214, 0x0100]


async def test_bad_mbap_drops_the_connection(server: ModbusTcpServer) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(struct.pack(">HHHB", 1, 5, 6, 1) + READ_HOLDING)
    assert await closed_by_peer(reader)
    writer.close()
    assert server.stats.errors == 1


async def test_disconnect_drops_and_refuses_until_cleared(server: ModbusTcpServer) -> None:
    inject(server, FaultKind.DISCONNECT)
    for _ in range(2):  # the dropped connection, then a refused one
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(mbap(1, READ_HOLDING))
        assert await closed_by_peer(reader)
        writer.close()
    server.faults.clear()
    reply = await raw_exchange(server.port, mbap(9, READ_HOLDING), 15)
    assert reply[:2] == b"\x00\x09"


async def test_close_drops_clients_and_frees_the_port(model: IoModel) -> None:
    server = ModbusTcpServer(IoInterface(model))
    await server.start()
    assert server.url == f"modbus-tcp://127.0.0.1:{server.port}"
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    await server.close()
    assert await closed_by_peer(reader)
    writer.close()
    with pytest.raises(ConnectionRefusedError):
        await asyncio.open_connection("127.0.0.1", server.port)
