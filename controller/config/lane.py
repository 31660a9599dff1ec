"""From a lane's config to what the core and the runtime use (seconds, channel maps)."""

from __future__ import annotations

from controller.config.models import CameraConfig, LaneConfig
from controller.core.params import CameraParams, LaneParams
from controller.core.types import Device


def lane_params(lane: LaneConfig, clearance_timeout_s: float = 10.0) -> LaneParams:
    t, w = lane.timing, lane.weighing
    return LaneParams(
        lane_id=lane.id,
        latch_s=t.latch_ms / 1000,
        field_check_s=t.field_check_ms / 1000,
        stroke_timeout_s=t.stroke_timeout_s,
        clear_hold_s=t.clear_hold_ms / 1000,
        position_timeout_s=t.position_timeout_s,
        stall_alarm_s=t.stall_alarm_s,
        clearance_timeout_s=clearance_timeout_s,
        empty_kg=w.empty_kg,
        on_deck_kg=w.on_deck_kg,
        zero_band_kg=w.zero_band_kg,
        zero_capture_kg=w.zero_capture_kg,
        stable_band_kg=w.stable_band_kg,
        stable_window_s=w.stable_window_s,
        tolerance_kg=w.tolerance_kg,
        max_gross_kg=w.max_gross_kg,
        red_lamp_sensed="entry_red_ok" in lane.wiring.inputs,
        camera=camera_params(lane.camera),
    )


def camera_params(camera: CameraConfig | None) -> CameraParams | None:
    """The core's cross-check settings; None without a camera (identified by tag alone)."""
    if camera is None:
        return None
    return CameraParams(
        min_confidence=camera.min_confidence,
        plate_wait_s=camera.plate_wait_ms / 1000,
        early_read_s=camera.early_read_s,
        missing_alarm_after=camera.missing_alarm_after,
    )


def fresh_budgets(lane: LaneConfig) -> dict[Device, float]:
    return {
        Device.IO: lane.io.fresh_ms / 1000,
        Device.ENTRY_BARRIER: lane.entry_barrier.fresh_ms / 1000,
        Device.EXIT_BARRIER: lane.exit_barrier.fresh_ms / 1000,
        Device.SCALE: lane.scale.fresh_ms / 1000,
        Device.RFID: lane.rfid.fresh_ms / 1000,
    }
