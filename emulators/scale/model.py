"""Physics of a weighbridge and its indicator.

Theory of operation: the world sets the load on the deck; the display follows it with a
first-order lag and shows motion until the load has been still for `settle_s`; at rest
the reading carries seeded noise of +-`noise_kg`. Readings are rounded to the count-by
graduation. `zero` is accepted only at rest within `zero_capture_kg` of the current zero
(as an indicator's zero range), `tare` only at rest. A drift fault (FaultKind.scale_drift)
walks the zero by `drift_kg_per_s`. Over `capacity_kg` the indicator reports out of range.
Time enters only through `advance(dt)`.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from emulators.faults import FaultBook, FaultKind


@dataclass(frozen=True, slots=True)
class ScaleReading:
    gross_kg: int
    tare_kg: int
    motion: bool
    out_of_range: bool
    not_zeroed: bool

    @property
    def net_kg(self) -> int:
        return self.gross_kg - self.tare_kg


class ScaleModel:
    def __init__(
        self,
        *,
        settle_s: float = 1.5,
        noise_kg: float = 5.0,
        capacity_kg: float = 60_000,
        grad_kg: int = 1,
        zero_capture_kg: float = 1_200,
        seed: int = 0,
        faults: FaultBook | None = None,
    ) -> None:
        if settle_s <= 0 or noise_kg < 0 or capacity_kg <= 0 or grad_kg < 1:
            raise ValueError("scale: settle_s > 0, noise_kg >= 0, capacity_kg > 0, grad_kg >= 1")
        self.settle_s, self.noise_kg, self.capacity_kg = settle_s, noise_kg, capacity_kg
        self.grad_kg, self.zero_capture_kg = grad_kg, zero_capture_kg
        self.faults = faults or FaultBook()
        self._rng = random.Random(seed)  # noqa: S311 - measurement noise
        self.now = 0.0
        self.load_kg = 0.0
        self.display_kg = 0.0
        self.zero_kg = 0.0  # what the indicator subtracts as zero
        self.drift_kg = 0.0
        self.tare_kg = 0
        self.not_zeroed = True
        self._still_s = settle_s

    def set_load_kg(self, kg: float) -> None:
        if abs(kg - self.load_kg) > 0.5:
            self._still_s = 0.0
        self.load_kg = max(0.0, kg)

    def advance(self, dt: float) -> None:
        self.now += dt
        self._still_s += dt
        drift = self.faults.active(FaultKind.SCALE_DRIFT, self.now)
        if drift is not None:
            self.drift_kg += drift.drift_kg_per_s * dt
        target = self.load_kg + self.drift_kg
        if not self.motion:
            self.display_kg = target  # settled: the filter has converged
            return
        self.display_kg += (target - self.display_kg) * (1 - math.exp(-dt / (self.settle_s / 5)))

    @property
    def motion(self) -> bool:
        return self._still_s < self.settle_s

    def reading(self) -> ScaleReading:
        noise = 0.0 if self.motion else self._rng.uniform(-self.noise_kg, self.noise_kg)
        raw = self.display_kg + noise - self.zero_kg
        gross = int(round(raw / self.grad_kg) * self.grad_kg)
        return ScaleReading(
            gross, self.tare_kg, self.motion, raw > self.capacity_kg, self.not_zeroed
        )

    def zero(self) -> bool:
        gross = self.display_kg - self.zero_kg
        if self.motion or abs(gross) > self.zero_capture_kg:
            return False
        self.zero_kg += gross
        self.not_zeroed = False
        return True

    def tare(self) -> bool:
        if self.motion:
            return False
        self.tare_kg = self.reading().gross_kg
        return True

    def clear_tare(self) -> None:
        self.tare_kg = 0
