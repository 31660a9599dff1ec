"""What a weight indicator says, whatever its protocol."""

from __future__ import annotations

from dataclasses import dataclass

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
