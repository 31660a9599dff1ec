"""Fault injection: one typed API for every emulator.

Theory of operation: a fault is data (`FaultSpec`, a pydantic model, so the emulate
control channel can validate what a technician or a test sends). A `FaultBook` holds the
faults injected into one emulated device and answers, frame by frame, which of them fire:
wire faults (no reply, late reply, corrupted checksum, garbage, split frames, Modbus
exception, disconnect) are asked per frame with `on_frame`; physical faults (stuck
actuator, sensor stuck on/off, scale drift) are asked with `active` by the model.

Triggers: `now` (every frame from now on), `after_frames` (from the N-th frame on), or
`probability` (each frame with probability p, from a seeded RNG so runs repeat).
A fault lasts `duration_s` seconds of emulator time, or until cleared when omitted.
Time is passed in (`now`), never read.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class FaultKind(StrEnum):
    NO_REPLY = "no_reply"
    LATE_REPLY = "late_reply"
    CORRUPT_CHECKSUM = "corrupt_checksum"
    GARBAGE = "garbage"
    SPLIT_FRAMES = "split_frames"
    MODBUS_EXCEPTION = "modbus_exception"
    DISCONNECT = "disconnect"
    STUCK_ACTUATOR = "stuck_actuator"
    SENSOR_STUCK_ON = "sensor_stuck_on"
    SENSOR_STUCK_OFF = "sensor_stuck_off"
    SCALE_DRIFT = "scale_drift"


WIRE_FAULTS = frozenset(
    {
        FaultKind.NO_REPLY,
        FaultKind.LATE_REPLY,
        FaultKind.CORRUPT_CHECKSUM,
        FaultKind.GARBAGE,
        FaultKind.SPLIT_FRAMES,
        FaultKind.MODBUS_EXCEPTION,
        FaultKind.DISCONNECT,
    }
)


class Trigger(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    mode: Literal["now", "after_frames", "probability"] = "now"
    frames: int = Field(default=0, ge=0, description="after_frames: fire from this frame on")
    p: float = Field(default=1.0, ge=0.0, le=1.0, description="probability: per frame")


class FaultSpec(BaseModel):
    """One fault to inject. Unused parameters keep their defaults."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: FaultKind
    trigger: Trigger = Trigger()
    duration_s: float | None = Field(default=None, gt=0)
    unit: int | None = Field(default=None, ge=0, le=247, description="Modbus unit; None: all")
    delay_s: float = Field(default=0.5, gt=0, le=60, description="late_reply: added delay")
    exception_code: int = Field(default=4, ge=1, le=11, description="modbus_exception")
    garbage_bytes: int = Field(default=8, ge=1, le=1024)
    channel: int | None = Field(default=None, ge=0, le=15, description="sensor_stuck_*")
    drift_kg_per_s: float = Field(default=2.0, ge=-1000, le=1000, description="scale_drift")

    @model_validator(mode="after")
    def _channel_for_sensor_faults(self) -> FaultSpec:
        stuck = self.kind in (FaultKind.SENSOR_STUCK_ON, FaultKind.SENSOR_STUCK_OFF)
        if stuck and self.channel is None:
            raise ValueError(f"channel: required for {self.kind.value}")
        return self


@dataclass(slots=True)
class _Armed:
    spec: FaultSpec
    since: float
    frames_seen: int = 0


class FaultBook:
    """The faults injected into one emulated device."""

    def __init__(self, seed: int = 0) -> None:
        self._armed: list[_Armed] = []
        self._rng = random.Random(seed)  # noqa: S311 - fault dice, not cryptography

    def inject(self, spec: FaultSpec, now: float) -> None:
        self._armed.append(_Armed(spec, now))

    def clear(self, kind: FaultKind | None = None) -> None:
        self._armed = [a for a in self._armed if kind is not None and a.spec.kind != kind]

    def _expire(self, now: float) -> None:
        if not self._armed:
            return  # asked on every frame: an empty book costs nothing
        self._armed = [
            a for a in self._armed if a.spec.duration_s is None or now - a.since < a.spec.duration_s
        ]

    def on_frame(self, now: float, unit: int | None = None) -> list[FaultSpec]:
        """Count one frame (a request, or an output frame) and return the wire faults that
        fire on it."""
        self._expire(now)
        fired: list[FaultSpec] = []
        for armed in self._armed:
            spec = armed.spec
            if spec.kind not in WIRE_FAULTS or not _unit_matches(spec, unit):
                continue
            armed.frames_seen += 1
            if self._fires(spec.trigger, armed.frames_seen):
                fired.append(spec)
        return fired

    def _fires(self, trigger: Trigger, frames_seen: int) -> bool:
        if trigger.mode == "after_frames":
            return frames_seen > trigger.frames
        if trigger.mode == "probability":
            return self._rng.random() < trigger.p
        return True

    def active(self, kind: FaultKind, now: float, unit: int | None = None) -> FaultSpec | None:
        """The physical fault of this kind in force now, if any (the first injected)."""
        self._expire(now)
        for armed in self._armed:
            if armed.spec.kind == kind and _unit_matches(armed.spec, unit):
                return armed.spec
        return None

    def all_active(self, now: float) -> list[FaultSpec]:
        self._expire(now)
        return [a.spec for a in self._armed]


def _unit_matches(spec: FaultSpec, unit: int | None) -> bool:
    return spec.unit is None or unit is None or spec.unit == unit
