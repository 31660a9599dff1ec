"""Weighbridge indicator codecs (DESIGN 5.3): the public names of both protocols."""

from __future__ import annotations

from devices.scale.reading import LB_TO_KG, WeightReading
from devices.scale.sma import (
    SMA_UNKNOWN_REPLY,
    SmaCommand,
    SmaCommandParser,
    SmaStreamParser,
    decode_sma_reply,
    encode_sma_command,
    encode_sma_reply,
)
from devices.scale.toledo import (
    ToledoCommandParser,
    ToledoStreamParser,
    checksum,
    decode_toledo,
    encode_toledo,
    encode_toledo_command,
)

__all__ = [
    "LB_TO_KG",
    "SMA_UNKNOWN_REPLY",
    "SmaCommand",
    "SmaCommandParser",
    "SmaStreamParser",
    "ToledoCommandParser",
    "ToledoStreamParser",
    "WeightReading",
    "checksum",
    "decode_sma_reply",
    "decode_toledo",
    "encode_sma_command",
    "encode_sma_reply",
    "encode_toledo",
    "encode_toledo_command",
]
