"""SMA SCP-0499 level 1/2, request/response (DESIGN 5.3). Pure.

Command `<LF>c<CR>`: W weight, Z zero, T tare, C clear tare, R repeat, S stop, I about.
Reply `<LF><s><r><n><m><f><weight, 10 chars><unit, 3 chars><CR>`: s status (' ' ok,
Z centre of zero, O over, U under, E zero error, T tare error, I initialising), r range
'1', n gross/net/tare (G/N/T), m 'M' in motion, f reserved ' '. Unknown command: `<LF>?<CR>`.
"""

from __future__ import annotations

from enum import StrEnum

from controller.errors import DeviceProtocolError
from devices.scale.reading import LB_TO_KG, StartByteParser, WeightReading

LF, CR = 0x0A, 0x0D
REPLY_LENGTH = 20  # LF + 5 status chars + 10 weight + 3 unit + CR
SMA_UNKNOWN_REPLY = b"\n?\r"
STATUSES = " ZOUETI"
UNITS = {"kg": 1.0, "lb": LB_TO_KG, "t": 1000.0}


class SmaCommand(StrEnum):
    WEIGHT = "W"
    ZERO = "Z"
    TARE = "T"
    CLEAR_TARE = "C"
    REPEAT = "R"
    STOP = "S"
    ABOUT = "I"


def encode_sma_command(command: SmaCommand) -> bytes:
    return b"\n" + command.value.encode() + b"\r"


def encode_sma_reply(
    weight_kg: int,
    *,
    status: str = " ",
    mode: str = "G",
    motion: bool = False,
    unit: str = "kg",
) -> bytes:
    if status not in STATUSES or mode not in "GNT" or unit not in UNITS:
        raise ValueError(f"status {status!r} / mode {mode!r} / unit {unit!r} not encodable")
    text = f"{weight_kg:>10d}"
    if len(text) != 10:
        raise ValueError(f"weight_kg: {weight_kg} does not fit in 10 characters")
    fields = f"{status}1{mode}{'M' if motion else ' '} {text}{unit:<3}"
    return b"\n" + fields.encode("ascii") + b"\r"


def decode_sma_reply(device: str, frame: bytes) -> WeightReading:
    if frame == SMA_UNKNOWN_REPLY:
        raise DeviceProtocolError(device, "sma: the indicator did not understand the command")
    if len(frame) != REPLY_LENGTH or frame[0] != LF or frame[-1] != CR:
        raise DeviceProtocolError(device, "sma: not a 20-byte LF..CR reply", frame)
    try:
        text = frame[1:-1].decode("ascii")
    except UnicodeDecodeError:
        raise DeviceProtocolError(device, "sma: non-ASCII reply", frame) from None
    status, mode, motion = text[0], text[2], text[3]
    weight_text, unit = text[5:15].strip(), text[15:18].strip()
    if status not in STATUSES or mode not in "GNT" or motion not in " M" or unit not in UNITS:
        raise DeviceProtocolError(device, "sma: bad status, mode, motion or unit", frame)
    try:
        value = float(weight_text)
    except ValueError:
        raise DeviceProtocolError(
            device, f"sma: weight {weight_text!r} is not a number", frame
        ) from None
    kg = value * UNITS[unit]
    return WeightReading(
        weight_kg=kg,
        tare_kg=0.0,
        net=mode == "N",
        negative=kg < 0,
        motion=motion == "M",
        out_of_range=status in "OU",
        zeroed=status != "E",
        unit_kg=unit == "kg",
        raw=bytes(frame),
    )


class SmaStreamParser(StartByteParser):
    """Replies in, readings (or error values) out; never raises. Frames run LF..CR."""

    start_byte, protocol = LF, "sma"

    def _take(self) -> WeightReading | DeviceProtocolError | None:
        end = self._buffer.find(CR)
        if end < 0:
            # no CR where one must be: the LF was noise
            return self._drop(1) if len(self._buffer) > REPLY_LENGTH else None
        frame = bytes(self._buffer[: end + 1])
        del self._buffer[: end + 1]
        try:
            return decode_sma_reply(self.device, frame)
        except DeviceProtocolError as error:
            return error


class SmaCommandParser:
    """The indicator's side: `<LF>c<CR>` commands; an unknown letter is an error value."""

    def __init__(self, device: str) -> None:
        self.device = device
        self._buffer = bytearray()

    def feed(self, chunk: bytes) -> list[SmaCommand | DeviceProtocolError]:
        self._buffer += chunk
        out: list[SmaCommand | DeviceProtocolError] = []
        while (end := self._buffer.find(b"\r")) >= 0:
            line = bytes(self._buffer[:end])
            del self._buffer[: end + 1]
            start = line.rfind(b"\n")
            letter = line[start + 1 :].decode("ascii", errors="replace") if start >= 0 else ""
            try:
                out.append(SmaCommand(letter))
            except ValueError:
                out.append(DeviceProtocolError(self.device, "sma: unknown command", line + b"\r"))
        if len(self._buffer) > 64:
            self._buffer.clear()
        return out
