"""The serial adapters (emulators/serial_port.py) end to end: a pyserial client on the pty
link (8N1), the link's lifecycle, continuous output at ~10 frames/s, replies paced no
faster than the baud allows, wire faults seen through the controller's codecs; and the
same device over the in-memory pipe."""

from __future__ import annotations

import asyncio
import os
import stat
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
import serial

from controller.errors import DeviceProtocolError
from devices.rfid.codec import (
    RfidCommand,
    RfidStreamParser,
    decode_response,
    encode_command,
    parse_inventory,
)
from devices.scale.codec import ToledoStreamParser, decode_toledo
from devices.transport.base import MemoryHub
from emulators.base import EmulatedClock
from emulators.faults import FaultBook, FaultKind, FaultSpec
from emulators.rfid.interface import RfidInterface
from emulators.rfid.model import RfidModel
from emulators.scale.interface import ScaleInterface
from emulators.scale.model import ScaleModel
from emulators.serial_port import BITS_PER_BYTE, SerialDevice, SerialMemoryServer, SerialPtyServer

GOLDEN = bytes.fromhex("02 2A 30 20 30 32 34 35 30 30 30 30 30 30 30 30 0D 2C")
EPC = bytes.fromhex("2000708C2B380B2D00000000")
INVENTORY = bytes.fromhex("04 00 01 DB 4B")
ONE_TAG_REPLY = bytes.fromhex("13 00 01 01 01 0C 20 00 70 8C 2B 38 0B 2D 00 00 00 00 37 09")


class Port:
    """A pyserial client on the emulator's link, read through the event loop: every
    chunk is kept with its arrival time."""

    def __init__(self, path: Path, baud: int) -> None:
        self.serial = serial.Serial(str(path), baud, bytesize=8, parity="N", stopbits=1, timeout=0)
        self.chunks: list[tuple[float, bytes]] = []
        self._loop = asyncio.get_running_loop()
        self._arrived = asyncio.Event()
        self._loop.add_reader(self.serial.fileno(), self._readable)

    def _readable(self) -> None:
        data = self.serial.read(4096)
        if data:
            self.chunks.append((self._loop.time(), data))
            self._arrived.set()

    @property
    def received(self) -> bytes:
        return b"".join(chunk for _, chunk in self.chunks)

    def write(self, data: bytes) -> float:
        """Write and return the loop time just after the write."""
        self.serial.write(data)
        return self._loop.time()

    async def until(self, condition: Callable[[bytes], bool], timeout_s: float = 3.0) -> None:
        async with asyncio.timeout(timeout_s):
            while not condition(self.received):
                self._arrived.clear()
                await self._arrived.wait()

    def close(self) -> None:
        self._loop.remove_reader(self.serial.fileno())
        self.serial.close()


@asynccontextmanager
async def on_pty(
    path: Path, device: SerialDevice, baud: int, faults: FaultBook | None = None
) -> AsyncIterator[Port]:
    async with SerialPtyServer(path, device, EmulatedClock(), baud=baud, faults=faults):
        port = Port(path, baud)
        try:
            yield port
        finally:
            port.close()


def settled_scale(load_kg: float = 24_500, *, zeroed: bool = True) -> ScaleModel:
    model = ScaleModel(noise_kg=0)
    for _ in range(40):
        model.advance(0.05)
    if zeroed:
        assert model.zero()
    model.set_load_kg(load_kg)
    for _ in range(40):
        model.advance(0.05)
    return model


def one_tag_reader(tags: int = 1) -> RfidInterface:
    model = RfidModel(read_probability=1.0, first_read_s=0.0)
    for index in range(tags):
        model.set_tag(EPC if index == 0 else bytes([index]) * 12, 3.0)
    return RfidInterface(model)


async def test_the_link_is_made_replaces_a_stale_one_and_goes_on_close(tmp_path: Path) -> None:
    path = tmp_path / "run" / "gatebridge" / "L01-scale"  # parents do not exist yet
    path.parent.mkdir(parents=True)
    path.symlink_to("/dev/pts/nonexistent")  # left by an emulator that was killed
    tasks_before = asyncio.all_tasks()
    async with SerialPtyServer(path, ScaleInterface(settled_scale()), EmulatedClock()):
        assert path.is_symlink()
        target = path.resolve()
        assert target != Path("/dev/pts/nonexistent")
        assert stat.S_ISCHR(os.stat(target).st_mode)
    assert not path.exists()
    assert not path.is_symlink()
    assert asyncio.all_tasks() == tasks_before  # no ticker, no pending write left


async def test_the_link_parents_are_created(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "rfid"
    async with SerialPtyServer(path, one_tag_reader(), EmulatedClock(), baud=57600):
        assert path.is_symlink()
    assert path.parent.is_dir()
    assert not path.is_symlink()


async def test_toledo_streams_the_golden_frame_about_ten_times_a_second(tmp_path: Path) -> None:
    async with on_pty(tmp_path / "scale", ScaleInterface(settled_scale()), 9600) as port:
        await port.until(lambda got: got.count(GOLDEN) >= 6)
        assert port.received.replace(GOLDEN, b"") == b""
        ends = [at for at, chunk in port.chunks if chunk.endswith(GOLDEN[-2:])]
    assert ends[5] - ends[0] >= 5 * 0.1 * 0.9  # the frame period's lower bound


async def test_a_zero_command_over_the_line_reaches_the_indicator(tmp_path: Path) -> None:
    model = settled_scale(300, zeroed=False)
    async with on_pty(tmp_path / "scale", ScaleInterface(model), 9600) as port:
        await port.until(lambda got: len(got) >= 18)
        assert not decode_toledo("t", port.received[:18]).zeroed
        port.write(b"Z\r")
        await port.until(lambda got: b"\x02\x2a\x30" in got)  # SWB: kg, zeroed, stable
    assert model.reading().gross_kg == 0


@pytest.mark.parametrize("baud", [2400, 9600])
async def test_a_reply_takes_at_least_its_bit_time_on_the_line(tmp_path: Path, baud: int) -> None:
    reader = one_tag_reader(tags=10)
    async with on_pty(tmp_path / "rfid", reader, baud) as port:
        sent = port.write(INVENTORY)
        await port.until(lambda got: len(got) >= 137)
        reply_bytes = len(port.received)
        last = port.chunks[-1][0]
    assert reply_bytes == 1 + 5 + 1 + 10 * 13
    assert last - sent >= reply_bytes * BITS_PER_BYTE / baud


async def test_no_reply_then_the_reader_answers_again(tmp_path: Path) -> None:
    faults = FaultBook()
    async with on_pty(tmp_path / "rfid", one_tag_reader(), 57600, faults) as port:
        faults.inject(FaultSpec(kind=FaultKind.NO_REPLY), 0.0)
        port.write(INVENTORY)
        with pytest.raises(TimeoutError):
            await port.until(lambda got: len(got) > 0, timeout_s=0.2)
        faults.clear(FaultKind.NO_REPLY)
        port.write(INVENTORY)
        await port.until(lambda got: got == ONE_TAG_REPLY)


async def test_a_late_reply_arrives_after_the_delay(tmp_path: Path) -> None:
    faults = FaultBook()
    async with on_pty(tmp_path / "rfid", one_tag_reader(), 57600, faults) as port:
        faults.inject(FaultSpec(kind=FaultKind.LATE_REPLY, delay_s=0.25), 0.0)
        sent = port.write(INVENTORY)
        await port.until(lambda got: got == ONE_TAG_REPLY)
        assert port.chunks[0][0] - sent >= 0.25


async def test_a_corrupt_checksum_is_caught_by_the_codecs(tmp_path: Path) -> None:
    faults = FaultBook()
    async with on_pty(tmp_path / "rfid", one_tag_reader(), 57600, faults) as port:
        faults.inject(FaultSpec(kind=FaultKind.CORRUPT_CHECKSUM), 0.0)
        port.write(INVENTORY)
        await port.until(lambda got: len(got) >= len(ONE_TAG_REPLY))
        items = RfidStreamParser("r").feed(port.received, 0.0)
    assert "CRC mismatch" in str(items[0])
    assert all(isinstance(item, DeviceProtocolError) for item in items)  # nothing decoded
    toledo_faults = FaultBook()
    scale = ScaleInterface(settled_scale())
    async with on_pty(tmp_path / "scale", scale, 9600, toledo_faults) as port:
        toledo_faults.inject(FaultSpec(kind=FaultKind.CORRUPT_CHECKSUM), 0.0)
        await port.until(lambda got: len(got) >= 36)
        [first, *_] = ToledoStreamParser("t").feed(port.received)
    assert "checksum" in str(first)


async def test_garbage_and_split_frames_still_decode(tmp_path: Path) -> None:
    faults = FaultBook()
    async with on_pty(tmp_path / "rfid", one_tag_reader(), 57600, faults) as port:
        faults.inject(FaultSpec(kind=FaultKind.SPLIT_FRAMES), 0.0)
        faults.inject(FaultSpec(kind=FaultKind.GARBAGE, garbage_bytes=5), 0.0)
        port.write(INVENTORY)
        await port.until(lambda got: got.endswith(ONE_TAG_REPLY))
        assert len(port.chunks) >= 2  # the halves come in separate reads
        parser = RfidStreamParser("r")
        items = [item for at, chunk in port.chunks for item in parser.feed(chunk, at)]
    good = [item for item in items if not isinstance(item, DeviceProtocolError)]
    assert [parse_inventory("r", response) for response in good] == [(EPC,)]


async def test_the_memory_adapter_serves_the_same_device(tmp_path: Path) -> None:
    hub, clock = MemoryHub(), EmulatedClock()
    model = settled_scale(300, zeroed=False)
    tasks_before = asyncio.all_tasks()
    async with SerialMemoryServer(hub, "L01-scale", ScaleInterface(model), clock):
        stream = hub.serial["L01-scale"]
        async with asyncio.timeout(2):
            frame = await stream.read()
        assert not decode_toledo("t", frame).zeroed
        await stream.write(b"Z\r")
        async with asyncio.timeout(2):
            while decode_toledo("t", await stream.read()).weight_kg != 0:
                pass
    assert "L01-scale" not in hub.serial
    assert asyncio.all_tasks() == tasks_before


async def test_the_memory_adapter_applies_wire_faults() -> None:
    hub, faults = MemoryHub(), FaultBook()
    async with SerialMemoryServer(hub, "rfid", one_tag_reader(), EmulatedClock(), faults):
        stream = hub.serial["rfid"]
        await stream.write(INVENTORY)
        async with asyncio.timeout(2):
            assert await stream.read() == ONE_TAG_REPLY
        faults.inject(FaultSpec(kind=FaultKind.NO_REPLY), 0.0)
        await stream.write(encode_command(0, RfidCommand.INVENTORY))
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.2):
                await stream.read()


async def test_a_reader_switched_to_scan_mode_starts_pushing() -> None:
    """A reader in answer mode has no push ticker running; the command that switches it to
    scan mode wakes it."""
    hub, reader = MemoryHub(), one_tag_reader()
    async with SerialMemoryServer(hub, "rfid", reader, EmulatedClock()):
        stream = hub.serial["rfid"]
        await stream.write(INVENTORY)  # answered: the push ticker has started, idle, by now
        async with asyncio.timeout(2):
            assert await stream.read() == ONE_TAG_REPLY
        await stream.write(encode_command(0, RfidCommand.WORK_MODE, b"\x01"))
        async with asyncio.timeout(2):
            assert decode_response("r", await stream.read()).status == 0
        reader.model.advance(0.5)  # a scan round finds the tag
        async with asyncio.timeout(2):
            pushed = await stream.read()
    assert pushed.startswith(bytes.fromhex("11 00 EE 00") + EPC)
