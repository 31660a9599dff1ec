"""The indicator's wire protocols mapped onto the scale model (DESIGN 5.3).

Toledo: a continuous frame every `frame_period_s` (0.1 s: ~10 frames/s) and the `Z`, `T`,
`C` commands, which have no answer (a refused command shows only in the frames that
follow). The weight field is the displayed weight: net when a tare is in force (net flag),
else gross; the graduation picks the decimal-point code and count-by (10 kg grads are
sent as XXXXX0, 100 kg as XXXX00).

SMA: a reply to each `<LF>c<CR>`: W, R, S, Z, T and C answer the standard weight and
status reply (status E after a refused zero, T after a refused tare, O over capacity, Z at
centre of zero); R also repeats that reply every frame period until the next command;
I answers the information line; an unknown command gets `<LF>?<CR>`. Frames come from
the same codecs the controller decodes with, so golden vectors hold on both sides.
"""

from __future__ import annotations

from typing import Literal

from controller.errors import DeviceProtocolError
from devices.scale.codec import (
    SMA_UNKNOWN_REPLY,
    SmaCommand,
    SmaCommandParser,
    ToledoCommandParser,
    encode_sma_reply,
    encode_toledo,
)
from emulators.scale.model import MAX_DISPLAY, ScaleModel, ScaleReading

FRAME_PERIOD_S = 0.1
SMA_INFO_REPLY = b"\nSMA:2/1.0\r"  # the first "scale information" line: level 2, rev 1.0
# graduation -> (Toledo decimal-point code, count-by, kg per transmitted digit)
_TOLEDO_SCALING = {
    1: (2, 1, 1),
    2: (2, 2, 1),
    5: (2, 5, 1),
    10: (1, 1, 10),
    20: (1, 2, 10),
    50: (1, 5, 10),
    100: (0, 1, 100),
    200: (0, 2, 100),
    500: (0, 5, 100),
}


class ScaleInterface:
    def __init__(
        self,
        model: ScaleModel,
        protocol: Literal["toledo", "sma"] = "toledo",
        *,
        frame_period_s: float = FRAME_PERIOD_S,
    ) -> None:
        if protocol not in ("toledo", "sma"):
            raise ValueError(f"protocol: toledo or sma, got {protocol!r}")
        if frame_period_s <= 0:
            raise ValueError(f"frame_period_s: must be positive, got {frame_period_s}")
        self.model, self.protocol = model, protocol
        self.frame_period_s = frame_period_s
        self._toledo = ToledoCommandParser()
        self._sma = SmaCommandParser("scale-emulator")
        self._repeating = False  # SMA R: repeat the weight reply until the next command

    @property
    def streaming(self) -> bool:
        return self.protocol == "toledo" or self._repeating

    def continuous(self) -> bytes | None:
        """The frame due at this frame tick (Toledo always; SMA only after R), or None."""
        if self.protocol == "toledo":
            return self._toledo_frame(self.model.reading())
        return self._sma_reply(self.model.reading(), " ") if self._repeating else None

    def receive(self, data: bytes, now: float = 0.0) -> list[bytes]:
        """Bytes from the host in, replies out (`now` unused: the indicator keeps no
        inter-byte timer; the model carries its own emulated time)."""
        if self.protocol == "toledo":
            for command in self._toledo.feed(data):
                self._apply(command)
            return []
        return [self._sma_answer(item) for item in self._sma.feed(data)]

    def _apply(self, command: str) -> bool:
        if command == "Z":
            return self.model.zero()
        if command == "T":
            return self.model.tare()
        self.model.clear_tare()
        return True

    def _toledo_frame(self, r: ScaleReading) -> bytes:
        code, count_by, per_digit = _TOLEDO_SCALING[self.model.grad_kg]
        shown = r.displayed_kg
        return encode_toledo(
            min(abs(shown) // per_digit, MAX_DISPLAY),
            min(r.tare_kg // per_digit, MAX_DISPLAY),
            decimal_code=code,
            count_by=count_by,
            net=r.tared,
            negative=shown < 0,
            motion=r.motion,
            out_of_range=r.out_of_range,
            not_zeroed=r.not_zeroed,
        )

    def _sma_answer(self, item: SmaCommand | DeviceProtocolError) -> bytes:
        self._repeating = item == SmaCommand.REPEAT
        if isinstance(item, DeviceProtocolError):
            return SMA_UNKNOWN_REPLY
        if item == SmaCommand.ABOUT:
            return SMA_INFO_REPLY
        status = " "
        if item in (SmaCommand.ZERO, SmaCommand.TARE, SmaCommand.CLEAR_TARE):
            refused = "E" if item == SmaCommand.ZERO else "T"
            status = " " if self._apply(item.value) else refused
        return self._sma_reply(self.model.reading(), status)

    def _sma_reply(self, r: ScaleReading, status: str) -> bytes:
        if r.out_of_range:
            status = "O"
        elif status == " " and r.gross_kg == 0 and not r.motion:
            status = "Z"  # centre of zero
        return encode_sma_reply(
            r.displayed_kg, status=status, mode="N" if r.tared else "G", motion=r.motion
        )
