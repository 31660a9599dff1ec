"""The barrier bus on a pty: a pymodbus serial client, raw frames, line timing, wire faults."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from pymodbus.client import AsyncModbusSerialClient
from pymodbus.exceptions import ModbusException

from controller.errors import DeviceBroken, DeviceProtocolError
from devices.barrier.codec import BarrierState
from devices.modbus.rtu import decode_adu, encode_adu
from emulators.barrier.interface import BarrierBusInterface
from emulators.barrier.model import BarrierModel
from emulators.faults import FaultKind, FaultSpec
from emulators.rtu_pty import SPLIT_GAP_S, LineModel, RtuPtyBus

READ_STATUS = encode_adu(1, bytes.fromhex("0300640007"))  # reply: 5 + 14 bytes
STATUS_REPLY = 19


def barriers() -> BarrierBusInterface:
    return BarrierBusInterface({1: BarrierModel(), 2: BarrierModel(position=100.0)})


@pytest.fixture
async def bus(tmp_path: Path) -> AsyncIterator[RtuPtyBus]:
    async with RtuPtyBus(tmp_path / "dev" / "barriers", barriers()) as served:
        yield served


def serial_client(bus: RtuPtyBus, retries: int = 0) -> AsyncModbusSerialClient:
    return AsyncModbusSerialClient(
        str(bus.path),
        baudrate=38400,
        bytesize=8,
        parity="N",
        stopbits=1,
        timeout=0.3,
        retries=retries,
    )


@pytest.fixture
async def client(bus: RtuPtyBus) -> AsyncIterator[AsyncModbusSerialClient]:
    client = serial_client(bus)
    assert await client.connect()
    yield client
    client.close()


def inject(bus: RtuPtyBus, kind: FaultKind, **params: object) -> None:
    bus.inject(FaultSpec.model_validate({"kind": kind, **params}))


async def until(condition: Callable[[], bool]) -> None:
    """Wait (bounded) for a condition another task or the emulator makes true."""
    async with asyncio.timeout(2):
        while True:
            if condition():
                return
            await asyncio.sleep(0.005)


async def raw_exchange(path: Path, frame: bytes, reply_len: int) -> tuple[bytes, list[float]]:
    """Write `frame` on the port; return `reply_len` bytes and each chunk's arrival time."""
    loop = asyncio.get_running_loop()
    fd = os.open(path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
    chunks: asyncio.Queue[bytes] = asyncio.Queue()
    loop.add_reader(fd, lambda: chunks.put_nowait(os.read(fd, 1024)))
    try:
        os.write(fd, frame)
        got, times = b"", []
        async with asyncio.timeout(2):
            while len(got) < reply_len:
                got += await chunks.get()
                times.append(loop.time())
        return got, times
    finally:
        loop.remove_reader(fd)
        os.close(fd)


async def test_two_units_answer_on_one_bus(bus: RtuPtyBus, client: AsyncModbusSerialClient) -> None:
    one = await client.read_holding_registers(100, count=7, device_id=1)
    two = await client.read_holding_registers(100, count=7, device_id=2)
    assert one.registers[:2] == [BarrierState.CLOSED, 0]
    assert two.registers[:2] == [BarrierState.OPEN, 100]
    assert not (await client.write_coil(1, True, device_id=1)).isError()
    assert bus.responder.barriers[1].state == BarrierState.OPENING  # type: ignore[attr-defined]
    refused = await client.write_coil(2, True, device_id=2)
    assert refused.isError()
    assert refused.exception_code == 2
    assert bus.stats.replies == 4


async def test_unknown_unit_gets_no_reply(bus: RtuPtyBus, client: AsyncModbusSerialClient) -> None:
    with pytest.raises(ModbusException):
        await client.read_holding_registers(100, count=7, device_id=9)
    assert (bus.stats.requests, bus.stats.silent) == (1, 1)


async def test_bad_crc_request_is_ignored(bus: RtuPtyBus) -> None:
    def spoil(sending: bool, data: bytes) -> bytes:
        return data[:-1] + bytes([data[-1] ^ 0xFF]) if sending else data

    client = AsyncModbusSerialClient(str(bus.path), timeout=0.2, retries=0, trace_packet=spoil)
    assert await client.connect()
    with pytest.raises(ModbusException):
        await client.read_holding_registers(100, count=1, device_id=1)
    client.close()
    assert (bus.stats.errors, bus.stats.requests) == (1, 0)
    reply, _ = await raw_exchange(bus.path, READ_STATUS, STATUS_REPLY)
    assert decode_adu("test", reply)[0] == 1


async def test_reply_takes_at_least_the_wire_time(
    bus: RtuPtyBus, client: AsyncModbusSerialClient
) -> None:
    loop = asyncio.get_running_loop()
    for _ in range(3):
        started = loop.time()
        await client.read_holding_registers(100, count=2, device_id=1)
        assert loop.time() - started >= bus.line.reply_after_s(8, 9)
    # DESIGN 5.5: 8.4 ms at 38400 with both silences, plus the turnaround
    assert bus.line.transaction_s(8, 9) - bus.line.turnaround_s == pytest.approx(0.0084, abs=1e-4)


async def test_line_model_can_be_switched_off(tmp_path: Path) -> None:
    line = LineModel(baudrate=1200)  # 8 + 9 characters take 156 ms at 1200 baud
    loop = asyncio.get_running_loop()
    async with RtuPtyBus(tmp_path / "slow", barriers(), line=line) as bus:
        started = loop.time()
        await raw_exchange(bus.path, READ_STATUS, STATUS_REPLY)
        assert loop.time() - started >= line.reply_after_s(8, STATUS_REPLY)
        line.enabled = False
        started = loop.time()
        await raw_exchange(bus.path, READ_STATUS, STATUS_REPLY)
        assert loop.time() - started < line.wire_s(8)  # 73 ms: far above a pty's delay


async def test_unknown_function_is_framed_by_silence_and_refused(bus: RtuPtyBus) -> None:
    reply, _ = await raw_exchange(bus.path, encode_adu(2, bytes.fromhex("2b0e0100")), 5)
    assert decode_adu("test", reply) == (2, bytes.fromhex("ab01"))


async def test_broadcast_acts_without_a_reply(bus: RtuPtyBus) -> None:
    models = bus.responder.barriers  # type: ignore[attr-defined]
    fd = os.open(bus.path, os.O_RDWR | os.O_NOCTTY)
    try:
        os.write(fd, encode_adu(0, bytes.fromhex("050003ff00")))
        await until(lambda: bus.stats.requests > 0)
    finally:
        os.close(fd)
    assert models[2].state == BarrierState.CLOSING
    assert bus.stats.silent == 1


async def test_split_reply_comes_in_two_parts(bus: RtuPtyBus) -> None:
    inject(bus, FaultKind.SPLIT_FRAMES)
    reply, times = await raw_exchange(bus.path, READ_STATUS, STATUS_REPLY)
    assert decode_adu("test", reply)[0] == 1
    assert len(times) == 2
    assert times[1] - times[0] >= SPLIT_GAP_S * 0.9


async def test_corrupt_garbage_and_late_replies(bus: RtuPtyBus) -> None:
    inject(bus, FaultKind.CORRUPT_CHECKSUM, duration_s=60)
    reply, _ = await raw_exchange(bus.path, READ_STATUS, STATUS_REPLY)
    with pytest.raises(DeviceProtocolError, match="CRC"):
        decode_adu("test", reply)
    bus.faults.clear()
    inject(bus, FaultKind.GARBAGE, garbage_bytes=3, duration_s=60)
    garbage, _ = await raw_exchange(bus.path, READ_STATUS, 3)
    assert len(garbage) == 3
    bus.faults.clear()
    inject(bus, FaultKind.LATE_REPLY, delay_s=0.1)
    loop = asyncio.get_running_loop()
    started = loop.time()
    await raw_exchange(bus.path, READ_STATUS, STATUS_REPLY)
    assert loop.time() - started >= 0.1 + bus.line.reply_after_s(8, STATUS_REPLY)


async def test_exception_and_disconnect_faults(
    bus: RtuPtyBus, client: AsyncModbusSerialClient
) -> None:
    inject(bus, FaultKind.MODBUS_EXCEPTION, exception_code=6, unit=1)
    busy = await client.read_holding_registers(100, count=7, device_id=1)
    assert busy.isError()
    assert busy.exception_code == 6
    bus.faults.clear()
    inject(bus, FaultKind.DISCONNECT, unit=2)
    with pytest.raises(ModbusException):
        await client.read_holding_registers(100, count=7, device_id=2)
    assert not (await client.read_holding_registers(100, count=7, device_id=1)).isError()
    bus.faults.clear()
    assert not (await client.read_holding_registers(100, count=7, device_id=2)).isError()


async def test_link_is_replaced_when_stale_and_removed_on_close(tmp_path: Path) -> None:
    path = tmp_path / "port"
    path.symlink_to(tmp_path / "gone")
    bus = RtuPtyBus(path, barriers())
    await bus.start()
    assert os.readlink(path) == bus.tty_name
    await bus.close()
    assert not path.is_symlink()


async def test_a_real_file_is_not_replaced(tmp_path: Path) -> None:
    path = tmp_path / "port"
    path.write_text("keep me")
    with pytest.raises(DeviceBroken, match="not a symlink"):
        await RtuPtyBus(path, barriers()).start()
    assert path.read_text() == "keep me"
