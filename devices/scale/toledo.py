"""Mettler Toledo standard continuous output (DESIGN 5.3). Pure.

Frame: STX SWA SWB SWC W1..W6 T1..T6 CR CHK, 18 bytes. SWA bits 0-2 place the decimal
point (000 XXXX00 ... 111 X.XXXXX), bits 3-4 the count-by; SWB bit0 net, bit1 negative,
bit2 out of range, bit3 motion, bit4 kg (0 = lb), bit6 power-up not zeroed; SWC bit3
print request. CHK makes the low 7 bits of the sum of all 18 bytes zero. Leading zeros
may arrive as spaces, and clones differ in the "always 1" bits: those are not checked.

The stream parser resynchronises on STX: garbage, a bad checksum or a truncated frame
gives an error value (never an exception), and the next good frame decodes.
"""

from __future__ import annotations

from controller.errors import DeviceProtocolError
from devices.scale.reading import LB_TO_KG, StartByteParser, WeightReading

STX, CR = 0x02, 0x0D
FRAME_LENGTH = 18
# decimal code -> factor applied to the displayed digits
_FACTOR = {0: 100.0, 1: 10.0, 2: 1.0, 3: 0.1, 4: 0.01, 5: 0.001, 6: 0.0001, 7: 0.00001}
_COUNT_BY = {1: 0b01, 2: 0b10, 5: 0b11}


def checksum(body: bytes) -> int:
    """The CHK byte for STX..CR: two's complement of the low 7 bits of their sum."""
    return (-sum(body)) & 0x7F


def encode_toledo(
    weight: int,
    tare: int = 0,
    *,
    decimal_code: int = 2,
    count_by: int = 1,
    net: bool = False,
    negative: bool = False,
    motion: bool = False,
    out_of_range: bool = False,
    unit_kg: bool = True,
    not_zeroed: bool = False,
    print_request: bool = False,
) -> bytes:
    """A frame showing `weight`/`tare` (the displayed digits, 0..999999)."""
    if not 0 <= weight <= 999_999 or not 0 <= tare <= 999_999:
        raise ValueError(f"weight/tare: 0..999999 displayed digits, got {weight}/{tare}")
    if decimal_code not in _FACTOR or count_by not in _COUNT_BY:
        raise ValueError(f"decimal_code {decimal_code} / count_by {count_by} not encodable")
    swa = 0x20 | _COUNT_BY[count_by] << 3 | decimal_code
    flags = (net, negative, out_of_range, motion, unit_kg, False, not_zeroed)
    swb = 0x20 | sum(1 << bit for bit, on in enumerate(flags) if on)
    swc = 0x20 | (0x08 if print_request else 0)
    body = bytes([STX, swa, swb, swc]) + b"%06d%06d" % (weight, tare) + bytes([CR])
    return body + bytes([checksum(body)])


def decode_toledo(device: str, frame: bytes) -> WeightReading:
    if len(frame) != FRAME_LENGTH or frame[0] != STX or frame[16] != CR:
        raise DeviceProtocolError(device, "toledo: not an 18-byte STX..CR CHK frame", frame)
    if sum(frame) & 0x7F:
        raise DeviceProtocolError(device, "toledo: checksum mismatch", frame)
    swa, swb = frame[1], frame[2]
    factor = _FACTOR[swa & 0x07]
    weight, tare = _digits(device, frame, frame[4:10]), _digits(device, frame, frame[10:16])
    unit_kg, negative = bool(swb & 0x10), bool(swb & 0x02)
    scale = factor if unit_kg else factor * LB_TO_KG
    return WeightReading(
        weight_kg=(-weight if negative else weight) * scale,
        tare_kg=tare * scale,
        net=bool(swb & 0x01),
        negative=negative,
        motion=bool(swb & 0x08),
        out_of_range=bool(swb & 0x04),
        zeroed=not swb & 0x40,
        unit_kg=unit_kg,
        raw=bytes(frame),
    )


def _digits(device: str, frame: bytes, field: bytes) -> int:
    text = field.decode("ascii", errors="replace").replace(" ", "0")
    if not text.isdigit() or not text.isascii():
        raise DeviceProtocolError(device, f"toledo: non-digit in weight field {field!r}", frame)
    return int(text)


class ToledoStreamParser(StartByteParser):
    """Continuous output in, readings (or error values) out; never raises."""

    start_byte, protocol = STX, "toledo"

    def _take(self) -> WeightReading | DeviceProtocolError | None:
        if len(self._buffer) < FRAME_LENGTH:
            return None
        frame = bytes(self._buffer[:FRAME_LENGTH])
        try:
            reading = decode_toledo(self.device, frame)
        except DeviceProtocolError as error:
            del self._buffer[:1]  # resynchronise on the next STX
            return error
        del self._buffer[:FRAME_LENGTH]
        return reading


def encode_toledo_command(command: str) -> bytes:
    if command not in ("Z", "T", "C"):
        raise ValueError(f"command: Z, T or C, got {command!r}")
    return command.encode() + b"\r"


class ToledoCommandParser:
    """The indicator's side: `Z\\r` zero, `T\\r` tare, `C\\r` clear tare; junk is ignored."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, chunk: bytes) -> list[str]:
        self._buffer += chunk
        commands: list[str] = []
        while (end := self._buffer.find(b"\r")) >= 0:
            line = bytes(self._buffer[:end]).strip()
            del self._buffer[: end + 1]
            if line[-1:] in (b"Z", b"T", b"C"):
                commands.append(line[-1:].decode())
        if len(self._buffer) > 64:
            self._buffer.clear()
        return commands
