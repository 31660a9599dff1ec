"""Physics of a UHF RFID reader's field.

Theory of operation: the world places tags at a distance from the antenna. A tag that
enters `range_m` becomes readable after a seeded first-read delay, uniform in
0..`first_read_s` (DESIGN 3: first read within 0.5 s); from then on each inventory round
reads it with `read_probability` (seeded dice). Leaving range forgets it, so re-entering
draws a new delay. In scan mode the reader runs an inventory round every
`scan_interval_s` and queues each tag read for pushing (bounded, as the reader's buffer
is). A dead antenna (FaultKind.SENSOR_STUCK_OFF, any channel: one antenna port) reads
nothing. Time enters only through `advance(dt)`; faults are asked with the model's `now`.
"""

from __future__ import annotations

import math
import random
from collections import deque
from dataclasses import dataclass
from enum import StrEnum

from emulators.faults import FaultBook, FaultKind

PUSH_BUFFER = 256


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
        faults: FaultBook | None = None,
    ) -> None:
        if range_m <= 0 or first_read_s < 0 or not 0 < read_probability <= 1:
            raise ValueError("rfid: range_m > 0, first_read_s >= 0, 0 < read_probability <= 1")
        if scan_interval_s <= 0:
            raise ValueError(f"rfid: scan_interval_s > 0, got {scan_interval_s}")
        self.range_m, self.first_read_s = range_m, first_read_s
        self.read_probability, self.scan_interval_s = read_probability, scan_interval_s
        self.faults = faults or FaultBook()
        self._rng = random.Random(seed)  # noqa: S311 - RF dice
        self.mode = WorkMode.ANSWER
        self.scan_time_ds = 10  # the inventory time limit a host sets (0x25), in 100 ms
        self.now = 0.0
        self._tags: dict[bytes, _Tag] = {}
        self._since_scan = 0.0
        self.pushes: deque[bytes] = deque(maxlen=PUSH_BUFFER)

    def set_tag(self, epc: bytes, distance_m: float | None) -> None:
        """Place a tag `distance_m` from the antenna; None takes it out of the world."""
        if distance_m is None:
            self._tags.pop(epc, None)
            return
        if not epc or len(epc) > 62 or not math.isfinite(distance_m) or distance_m < 0:
            raise ValueError(f"tag {epc.hex()}: 1..62 EPC bytes, distance >= 0 m")
        tag = self._tags.setdefault(epc, _Tag(distance_m))
        tag.distance_m = distance_m
        if distance_m > self.range_m:
            tag.readable_at = None
        elif tag.readable_at is None:
            tag.readable_at = self.now + self._rng.uniform(0, self.first_read_s)

    def readable(self) -> list[bytes]:
        """Tags an inventory round could read now (before the per-round dice)."""
        if self.faults.active(FaultKind.SENSOR_STUCK_OFF, self.now) is not None:
            return []
        return [
            epc
            for epc, tag in self._tags.items()
            if tag.readable_at is not None and tag.readable_at <= self.now
        ]

    def inventory(self) -> list[bytes]:
        """One inventory round: the tags it read."""
        return [epc for epc in self.readable() if self._rng.random() < self.read_probability]

    def advance(self, dt: float) -> None:
        self.now += dt
        if self.mode != WorkMode.SCAN:
            self._since_scan = 0.0
            return
        self._since_scan += dt
        rounds = int(self._since_scan // self.scan_interval_s)
        self._since_scan -= rounds * self.scan_interval_s
        for _ in range(min(rounds, PUSH_BUFFER)):  # a long step runs every round it spans
            self.pushes.extend(self.inventory())
