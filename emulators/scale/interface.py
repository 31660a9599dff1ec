"""The indicator's wire protocols mapped onto the scale model (DESIGN 5.3).

Toledo: a continuous frame every `frame_period_s`, and Z/T/C commands. SMA: a reply to
each `<LF>c<CR>` request; an unknown command gets `<LF>?<CR>`. Frames come from the
same codecs the controller decodes with, so golden vectors hold on both sides.
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
from emulators.scale.model import ScaleModel


class ScaleInterface:
    def __init__(self, model: ScaleModel, protocol: Literal["toledo", "sma"] = "toledo") -> None:
        self.model, self.protocol = model, protocol
        self.frame_period_s = 0.1 if protocol == "toledo" else 0.0
        self._toledo = ToledoCommandParser()
        self._sma = SmaCommandParser("scale-emulator")

    def continuous(self) -> bytes | None:
        """The next continuous-output frame (Toledo), or None for a polled protocol."""
        if self.protocol != "toledo":
            return None
        r = self.model.reading()
        return encode_toledo(
            min(abs(r.gross_kg), 999_999),
            min(r.tare_kg, 999_999),
            net=r.tare_kg != 0,
            negative=r.gross_kg < 0,
            motion=r.motion,
            out_of_range=r.out_of_range,
            not_zeroed=r.not_zeroed,
        )

    def receive(self, data: bytes, now: float = 0.0) -> list[bytes]:
        if self.protocol == "toledo":
            for command in self._toledo.feed(data):
                self._apply(command)
            return []
        replies: list[bytes] = []
        for item in self._sma.feed(data):
            if isinstance(item, DeviceProtocolError):
                replies.append(SMA_UNKNOWN_REPLY)
            else:
                replies.append(self._sma_reply(item))
        return replies

    def _apply(self, command: str) -> bool:
        model = self.model
        if command == "Z":
            return model.zero()
        if command == "T":
            return model.tare()
        model.clear_tare()
        return True

    def _sma_reply(self, command: SmaCommand) -> bytes:
        ok = True
        if command in (SmaCommand.ZERO, SmaCommand.TARE, SmaCommand.CLEAR_TARE):
            ok = self._apply(command.value)
        r = self.model.reading()
        status = "O" if r.out_of_range else (" " if ok else "E")
        mode = "N" if r.tare_kg else "G"
        return encode_sma_reply(
            r.net_kg if r.tare_kg else r.gross_kg, status=status, mode=mode, motion=r.motion
        )
