"""Physics of a weighbridge and its indicator.

Theory of operation: the world sets the load on the deck; the display follows it with a
first-order lag (time constant `settle_s / 8`) and shows motion until the load has stayed
within one motion band for `settle_s`, when the filter is taken as converged. At rest the
reading carries seeded noise of +-`noise_kg`. Readings are rounded to the graduation
(`grad_kg`, a 1-2-5 step: 1, 2, 5, 10 ... 500 kg).

Zero, as an indicator under OIML R76 does it: refused in motion, with a tare in force, when
the reading is more than `zero_capture_kg` from the current zero (default 2 % of capacity),
or when the total zero set since calibration would exceed `zero_range_kg` (default 4 %),
so a drifting scale cannot be zeroed for ever. Until the first accepted zero the indicator
says "power-up, not zeroed". Tare is refused in motion, over capacity, or for a gross that
is not positive. A drift fault (FaultKind.SCALE_DRIFT) walks the zero by `drift_kg_per_s`.
Over `capacity_kg` the indicator reports out of range. Time enters only through
`advance(dt)`; faults are asked with the model's own emulated `now`.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from emulators.faults import FaultBook, FaultKind

GRADUATIONS = (1, 2, 5, 10, 20, 50, 100, 200, 500)
MAX_DISPLAY = 999_999


@dataclass(frozen=True, slots=True)
class ScaleReading:
    """What the display shows now (kg, rounded to the graduation)."""

    gross_kg: int
    tare_kg: int
    motion: bool
    out_of_range: bool
    not_zeroed: bool

    @property
    def net_kg(self) -> int:
        return self.gross_kg - self.tare_kg

    @property
    def tared(self) -> bool:
        return self.tare_kg != 0

    @property
    def displayed_kg(self) -> int:
        """Net with a tare in force, else gross: what the indicator's digits show."""
        return self.net_kg if self.tared else self.gross_kg


class ScaleModel:
    def __init__(
        self,
        *,
        settle_s: float = 1.5,
        noise_kg: float = 5.0,
        capacity_kg: float = 60_000,
        grad_kg: int = 1,
        zero_capture_kg: float | None = None,
        zero_range_kg: float | None = None,
        seed: int = 0,
        faults: FaultBook | None = None,
    ) -> None:
        _check(settle_s, noise_kg, capacity_kg, grad_kg)
        self.settle_s, self.noise_kg, self.capacity_kg = settle_s, noise_kg, capacity_kg
        self.grad_kg = grad_kg
        self.zero_capture_kg = 0.02 * capacity_kg if zero_capture_kg is None else zero_capture_kg
        self.zero_range_kg = 0.04 * capacity_kg if zero_range_kg is None else zero_range_kg
        self.faults = faults or FaultBook()
        self._rng = random.Random(seed)  # noqa: S311 - measurement noise
        self.now = 0.0
        self.load_kg = 0.0
        self.display_kg = 0.0  # the filtered signal, before zero, noise and rounding
        self.zero_kg = 0.0  # what the indicator subtracts as zero (0 = calibration zero)
        self.drift_kg = 0.0
        self.tare_kg = 0
        self.not_zeroed = True
        self._anchor_kg = 0.0  # the load the motion band is measured from
        self._still_s = settle_s

    def set_load_kg(self, kg: float) -> None:
        if not math.isfinite(kg):
            raise ValueError(f"load: a finite number of kg, got {kg}")
        self.load_kg = max(0.0, kg)
        if abs(self.load_kg - self._anchor_kg) > self.grad_kg:
            self._anchor_kg = self.load_kg
            self._still_s = 0.0

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
        self.display_kg += (target - self.display_kg) * -math.expm1(-8 * dt / self.settle_s)

    @property
    def motion(self) -> bool:
        return self._still_s < self.settle_s

    def _gross(self) -> float:
        return self.display_kg - self.zero_kg

    def reading(self) -> ScaleReading:
        noise = 0.0 if self.motion else self._rng.uniform(-self.noise_kg, self.noise_kg)
        raw = self._gross() + noise
        gross = round(raw / self.grad_kg) * self.grad_kg
        return ScaleReading(
            gross, self.tare_kg, self.motion, raw > self.capacity_kg, self.not_zeroed
        )

    def zero(self) -> bool:
        """Zero the display; False when the indicator refuses (see the module doc)."""
        gross = self._gross()
        outside = abs(gross) > self.zero_capture_kg or abs(self.display_kg) > self.zero_range_kg
        if self.motion or self.tare_kg or outside:
            return False
        self.zero_kg = self.display_kg
        self.not_zeroed = False
        return True

    def tare(self) -> bool:
        """Take the gross as tare; False when the indicator refuses."""
        reading = self.reading()
        if reading.motion or reading.out_of_range or reading.gross_kg <= 0:
            return False
        self.tare_kg = reading.gross_kg
        return True

    def clear_tare(self) -> None:
        self.tare_kg = 0


def _check(settle_s: float, noise_kg: float, capacity_kg: float, grad_kg: int) -> None:
    if settle_s <= 0 or noise_kg < 0:
        raise ValueError(f"scale: settle_s > 0 and noise_kg >= 0, got {settle_s}, {noise_kg}")
    if grad_kg not in GRADUATIONS:
        raise ValueError(f"scale: grad_kg one of {GRADUATIONS}, got {grad_kg}")
    if not 0 < capacity_kg <= MAX_DISPLAY:
        raise ValueError(f"scale: capacity_kg in 0..{MAX_DISPLAY}, got {capacity_kg}")
