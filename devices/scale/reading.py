"""What a weight indicator says, whatever its protocol."""

from __future__ import annotations

from dataclasses import dataclass

from controller.errors import DeviceProtocolError

LB_TO_KG = 0.45359237


@dataclass(frozen=True, slots=True)
class WeightReading:
    """One indicator frame, decoded.

    `weight_kg` is signed and in kilograms whatever the indicator's unit; `zeroed` is
    False while the indicator says it has not been zeroed since power-up (Toledo SWB bit 6)
    or reports a zero error (SMA status 'E'); `raw` keeps the frame for the record.
    """

    weight_kg: float
    tare_kg: float
    net: bool
    negative: bool
    motion: bool
    out_of_range: bool
    zeroed: bool
    unit_kg: bool
    raw: bytes


class StartByteParser:
    """A stream of frames that each open with a start byte; never raises.

    Bytes before a start byte are garbage (one error value naming them); what a frame
    needs after its start byte is the subclass's `_take`, which returns the decoded frame
    or an error value (and consumes what it judged), or None to wait for more bytes.
    """

    start_byte: int
    protocol: str

    def __init__(self, device: str) -> None:
        self.device = device
        self._buffer = bytearray()

    def feed(self, chunk: bytes) -> list[WeightReading | DeviceProtocolError]:
        self._buffer += chunk
        out: list[WeightReading | DeviceProtocolError] = []
        while self._buffer:
            start = self._buffer.find(self.start_byte)
            if start != 0:
                out.append(self._drop(len(self._buffer) if start < 0 else start))
                continue
            item = self._take()
            if item is None:
                break
            out.append(item)
        return out

    def _drop(self, count: int) -> DeviceProtocolError:
        dropped = bytes(self._buffer[:count])
        del self._buffer[:count]
        return DeviceProtocolError(
            self.device, f"{self.protocol}: bytes outside any frame", dropped
        )

    def _take(self) -> WeightReading | DeviceProtocolError | None:
        raise NotImplementedError
