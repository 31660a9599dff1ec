"""Lane parameters as the core sees them: plain numbers in seconds and kilograms.

The runtime builds these from the validated config (which speaks milliseconds where
DESIGN section 8 does); the core never sees pydantic.
"""

from __future__ import annotations

from dataclasses import dataclass

from controller.core.types import Device


@dataclass(frozen=True, slots=True)
class CameraParams:
    """The cross-check of the tag against the entry camera's plate read (crosscheck.py)."""

    min_confidence: float = 0.8  # a read below this is not evidence either way
    plate_wait_s: float = 3.0  # after the approach, how long a missing read is waited for
    early_read_s: float = 30.0  # a read this long before the approach is still its truck's
    missing_alarm_after: int = 3  # vehicles in a row without a read: the camera is suspect


@dataclass(frozen=True, slots=True)
class LaneParams:
    lane_id: str = "L01"
    # timing (DESIGN section 8, converted to seconds)
    latch_s: float = 5.0
    field_check_s: float = 1.0
    stroke_timeout_s: float = 8.0
    clear_hold_s: float = 1.0
    position_timeout_s: float = 60.0
    stall_alarm_s: float = 120.0
    clearance_timeout_s: float = 10.0
    clearance_retry_s: float = 5.0  # after a timeout, ask again (a new request) this much later
    boot_timeout_s: float = 5.0
    # weighing
    empty_kg: float = 200
    on_deck_kg: float = 1000
    zero_band_kg: float = 20
    zero_capture_kg: float = 500
    stable_band_kg: float = 20
    stable_window_s: float = 1.0
    tolerance_kg: float = 500
    max_gross_kg: float = 60000
    devices: tuple[Device, ...] = tuple(Device)
    red_lamp_sensed: bool = False
    camera: CameraParams | None = None  # None: no camera, identification by tag alone
