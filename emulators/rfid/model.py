"""Physics of a UHF RFID reader's field.

Theory of operation: the world places tags at a distance from the antenna. A tag within
`range_m` becomes readable after a first-read delay (seeded, up to `first_read_s`) and is
then read by each inventory round with `read_probability`. In scan mode the reader pushes
each readable tag every `scan_interval_s`. Time enters only through `advance(dt)`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from enum import StrEnum


class WorkMode(StrEnum):
    ANSWER = "answer"
    SCAN = "scan"


@dataclass(slots=True)
class _Tag:
    distance_m: float
    readable_at: float | None = None


class RfidModel:
    def __init__(
        self,
        *,
        range_m: float = 8.0,
        first_read_s: float = 0.5,
        read_probability: float = 0.97,
        scan_interval_s: float = 0.2,
        seed: int = 0,
    ) -> None:
        if range_m <= 0 or first_read_s < 0 or not 0 < read_probability <= 1:
            raise ValueError("rfid: range_m > 0, first_read_s >= 0, 0 < read_probability <= 1")
        self.range_m, self.first_read_s = range_m, first_read_s
        self.read_probability, self.scan_interval_s = read_probability, scan_interval_s
        self._rng = random.Random(seed)  # noqa: S311 - RF dice
        self.mode = WorkMode.ANSWER
        self.scan_time_ds = 10
        self.now = 0.0
        self._tags: dict[bytes, _Tag] = {}
        self._since_scan = 0.0
        self.pushes: list[bytes] = []

    def set_tag(self, epc: bytes, distance_m: float | None) -> None:
        if distance_m is None:
            self._tags.pop(epc, None)
            return
        tag = self._tags.setdefault(epc, _Tag(distance_m))
        tag.distance_m = distance_m
        if distance_m > self.range_m:
            tag.readable_at = None
        elif tag.readable_at is None:
            tag.readable_at = self.now + self._rng.uniform(0, self.first_read_s)

    def readable(self) -> list[bytes]:
        return [
            epc
            for epc, tag in self._tags.items()
            if tag.readable_at is not None and tag.readable_at <= self.now
        ]

    def inventory(self) -> list[bytes]:
        return [epc for epc in self.readable() if self._rng.random() < self.read_probability]

    def advance(self, dt: float) -> None:
        self.now += dt
        if self.mode != WorkMode.SCAN:
            return
        self._since_scan += dt
        if self._since_scan >= self.scan_interval_s:
            self._since_scan = 0.0
            self.pushes.extend(self.inventory())
