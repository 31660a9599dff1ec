"""UHFReader18 / CF-RU5102 frames (DESIGN 5.4). Pure.

Command `Len Adr Cmd Data CRC_L CRC_H`, response `Len Adr reCmd Status Data CRC_L CRC_H`;
Len counts the bytes after itself; CRC-16/MCRF4XX over Len..Data, low byte first, so the
CRC over a whole good frame is 0. Inventory replies carry `Num {EPCLen EPC}...`; scan mode
pushes `Len Adr 0xEE 0x00 EPC CRC`.

The stream parser is given each chunk's arrival time: a gap over `gap_s` inside a frame
loses sync (the partial frame is dropped as an error value); a bad CRC or an impossible
Len slides one byte and tries again. It never raises and never waits for bytes that
cannot complete a frame.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum

from controller.errors import DeviceProtocolError

BROADCAST = 0xFF
PUSH_RECMD = 0xEE
MIN_LEN, MAX_LEN = 4, 255  # Len of the shortest command (4) .. a byte


class RfidCommand(IntEnum):
    INVENTORY = 0x01
    READER_INFO = 0x21
    SCAN_TIME = 0x25
    WORK_MODE = 0x35


class RfidStatus(IntEnum):
    OK = 0x00
    INVENTORY_DONE = 0x01
    SCAN_OVERFLOW = 0x02
    MORE_FRAMES = 0x03
    BUFFER_FULL = 0x04
    NO_TAG = 0xFB
    WRONG_LENGTH = 0xFD
    ILLEGAL_COMMAND = 0xFE
    BAD_PARAMETER = 0xFF


INVENTORY_OK = frozenset({0x01, 0x02, 0x03, 0x04})


def _crc_byte(value: int) -> int:
    for _ in range(8):
        value = (value >> 1) ^ 0x8408 if value & 1 else value >> 1
    return value


_CRC_TABLE = tuple(_crc_byte(i) for i in range(256))  # a byte at a time: 8x fewer steps


def crc16_mcrf4xx(data: bytes) -> int:
    crc = 0xFFFF
    table = _CRC_TABLE
    for byte in data:
        crc = (crc >> 8) ^ table[(crc ^ byte) & 0xFF]
    return crc


def _framed(body: bytes) -> bytes:
    framed = bytes([len(body) + 2]) + body  # Len counts body and CRC
    return framed + crc16_mcrf4xx(framed).to_bytes(2, "little")


def encode_command(address: int, command: int, data: bytes = b"") -> bytes:
    if not 0 <= address <= 0xFF or not 0 <= command <= 0xFF or len(data) > 250:
        raise ValueError(f"address {address} / command {command} / {len(data)} data bytes")
    return _framed(bytes([address, command]) + data)


@dataclass(frozen=True, slots=True)
class RfidRequest:
    address: int
    command: int
    data: bytes


@dataclass(frozen=True, slots=True)
class RfidResponse:
    address: int
    recmd: int
    status: int
    data: bytes


def _check(device: str, frame: bytes, minimum: int) -> None:
    if len(frame) < minimum + 1 or frame[0] != len(frame) - 1:
        raise DeviceProtocolError(device, "rfid: Len does not match the frame", frame)
    if crc16_mcrf4xx(frame) != 0:
        raise DeviceProtocolError(device, "rfid: CRC mismatch", frame)


def decode_command(device: str, frame: bytes) -> RfidRequest:
    _check(device, frame, MIN_LEN)
    return RfidRequest(frame[1], frame[2], bytes(frame[3:-2]))


def encode_response(address: int, recmd: int, status: int, data: bytes = b"") -> bytes:
    return _framed(bytes([address, recmd, status]) + data)


def decode_response(device: str, frame: bytes) -> RfidResponse:
    _check(device, frame, 5)
    return RfidResponse(frame[1], frame[2], frame[3], bytes(frame[4:-2]))


def encode_inventory_reply(address: int, epcs: Sequence[bytes], status: int = 0x01) -> bytes:
    if not epcs:
        return encode_response(address, RfidCommand.INVENTORY, RfidStatus.NO_TAG)
    data = bytes([len(epcs)]) + b"".join(bytes([len(e)]) + e for e in epcs)
    return encode_response(address, RfidCommand.INVENTORY, status, data)


def parse_inventory(device: str, response: RfidResponse) -> tuple[bytes, ...]:
    if response.recmd != RfidCommand.INVENTORY:
        raise DeviceProtocolError(device, f"rfid: answer to command {response.recmd:#04x}")
    if response.status == RfidStatus.NO_TAG:
        return ()
    if response.status not in INVENTORY_OK:
        raise DeviceProtocolError(device, f"rfid: inventory status {response.status:#04x}")
    data = response.data
    if not data:
        raise DeviceProtocolError(device, "rfid: inventory reply without a tag count", data)
    epcs, at = [], 1
    for _ in range(data[0]):
        if at >= len(data) or at + 1 + data[at] > len(data) or data[at] == 0:
            raise DeviceProtocolError(device, "rfid: tag count and EPC lengths disagree", data)
        epcs.append(bytes(data[at + 1 : at + 1 + data[at]]))
        at += 1 + data[at]
    if at != len(data):
        raise DeviceProtocolError(device, "rfid: bytes after the last EPC", data)
    return tuple(epcs)


def encode_push(address: int, epc: bytes) -> bytes:
    return encode_response(address, PUSH_RECMD, 0x00, epc)


class _FrameStream:
    """Length-prefixed frames with CRC, resynchronising on gaps and bad frames."""

    def __init__(self, device: str, gap_s: float, minimum: int) -> None:
        self.device, self.gap_s, self.minimum = device, gap_s, minimum
        self._buffer = bytearray()
        self._last_at: float | None = None

    def frames(self, chunk: bytes, at: float) -> list[bytes | DeviceProtocolError]:
        out: list[bytes | DeviceProtocolError] = []
        if self._buffer and self._last_at is not None and at - self._last_at > self.gap_s:
            out.append(
                DeviceProtocolError(self.device, "rfid: gap inside a frame", bytes(self._buffer))
            )
            self._buffer.clear()
        self._last_at = at
        self._buffer += chunk
        while self._buffer:
            length = self._buffer[0]
            if length < self.minimum:
                out.append(self._slide("rfid: impossible Len"))
                continue
            if len(self._buffer) < length + 1:
                # a garbage byte can claim a long frame: if a complete good frame starts
                # further on, the claim was false; otherwise wait for more bytes
                if (ahead := self._good_frame_after()) is None:
                    break
                out.append(self._drop(ahead, "rfid: bytes before a good frame"))
                continue
            frame = bytes(self._buffer[: length + 1])
            if crc16_mcrf4xx(frame) != 0:
                out.append(self._slide("rfid: CRC mismatch"))
                continue
            del self._buffer[: length + 1]
            out.append(frame)
        return out

    def _good_frame_after(self) -> int | None:
        buffer = self._buffer
        for start in range(1, len(buffer) - self.minimum):
            end = start + buffer[start] + 1
            plausible = buffer[start] >= self.minimum and end <= len(buffer)
            if plausible and crc16_mcrf4xx(bytes(buffer[start:end])) == 0:
                return start
        return None

    def _drop(self, count: int, why: str) -> DeviceProtocolError:
        dropped = bytes(self._buffer[:count])
        del self._buffer[:count]
        return DeviceProtocolError(self.device, why, dropped)

    def _slide(self, why: str) -> DeviceProtocolError:
        dropped = bytes(self._buffer[:1])
        del self._buffer[:1]
        return DeviceProtocolError(self.device, why, dropped)


class RfidStreamParser:
    """Reader -> host bytes (responses and pushed tags) in; never raises."""

    def __init__(self, device: str, gap_s: float = 0.015) -> None:
        self._stream = _FrameStream(device, gap_s, 5)
        self.device = device

    def feed(self, chunk: bytes, at: float) -> list[RfidResponse | DeviceProtocolError]:
        return [
            f if isinstance(f, DeviceProtocolError) else decode_response(self.device, f)
            for f in self._stream.frames(chunk, at)
        ]


class RfidCommandParser:
    """Host -> reader bytes in (the emulator's side); never raises."""

    def __init__(self, device: str, gap_s: float = 0.015) -> None:
        self._stream = _FrameStream(device, gap_s, MIN_LEN)
        self.device = device

    def feed(self, chunk: bytes, at: float) -> list[RfidRequest | DeviceProtocolError]:
        return [
            f if isinstance(f, DeviceProtocolError) else decode_command(self.device, f)
            for f in self._stream.frames(chunk, at)
        ]
