"""A lane's wiring and device handles as the runtime uses them.

`LaneSetup` is built from the validated config (or by a test or simulation directly): the
core's parameters, the I/O channel map, poll periods, freshness budgets, and the drivers.
Drivers are typed by the small protocols below, which the drivers in devices/ satisfy.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from controller.core.params import LaneParams
from controller.core.types import Device, Side


class BarrierStatusLike(Protocol):
    """A barrier's status register block (devices.barrier.codec.BarrierStatus)."""

    @property
    def state(self) -> int: ...
    @property
    def flags(self) -> int: ...
    @property
    def position(self) -> int | None: ...
    @property
    def auto_close(self) -> bool: ...
    @property
    def presence(self) -> bool: ...


class WeightReadingLike(Protocol):
    """One indicator frame (devices.scale.reading.WeightReading)."""

    @property
    def weight_kg(self) -> float: ...
    @property
    def motion(self) -> bool: ...
    @property
    def out_of_range(self) -> bool: ...
    @property
    def raw(self) -> bytes: ...


class IoPort(Protocol):
    async def read_inputs(self) -> tuple[bool, ...]: ...
    async def read_outputs(self) -> tuple[bool, ...]: ...
    async def write_outputs(self, bits: Sequence[bool]) -> None: ...
    async def arm_watchdog(self, timeout_ms: int, safe_pattern: int) -> None: ...
    async def reset_watchdog(self) -> None: ...


class BarrierPort(Protocol):
    async def read_status(self) -> BarrierStatusLike: ...
    async def open(self) -> None: ...
    async def close(self) -> None: ...
    async def stop(self) -> None: ...
    async def reset(self) -> None: ...
    async def set_auto_close(self, on: bool) -> None: ...


class ScalePort(Protocol):
    async def read_reading(self, timeout_s: float) -> WeightReadingLike: ...
    async def zero(self) -> None: ...


class RfidPort(Protocol):
    async def inventory(self) -> tuple[bytes, ...]: ...


class PlateReadLike(Protocol):
    """One authenticated camera read (devices.camera.codec.PlateRead)."""

    @property
    def camera(self) -> str: ...
    @property
    def event_id(self) -> str: ...
    @property
    def plate(self) -> str: ...
    @property
    def country(self) -> str: ...
    @property
    def confidence(self) -> float: ...
    @property
    def snapshot_jpeg(self) -> bytes: ...


class CameraCountersLike(Protocol):
    """A camera's counters (devices.camera.driver.CameraCounters)."""

    @property
    def accepted(self) -> int: ...
    @property
    def duplicates(self) -> int: ...
    @property
    def dropped(self) -> int: ...
    @property
    def rejected(self) -> Mapping[str, int]: ...


class CameraPort(Protocol):
    """One side's camera (devices.camera.driver.CameraDriver): reads pushed to us."""

    @property
    def camera_id(self) -> str: ...
    async def next_read(self, timeout_s: float) -> PlateReadLike: ...
    def counters(self) -> CameraCountersLike: ...


class ListenerPort(Protocol):
    """A server the lane's devices push to (devices.camera.listener.CameraListener):
    started and closed by whoever owns the lanes' lifetime (build.listening)."""

    async def start(self) -> None: ...
    async def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class Wiring:
    inputs: Mapping[str, int]  # signal name -> channel
    outputs: Mapping[str, int]  # entry_red, entry_green, exit_red, exit_green, signs
    channels: int = 16

    def safe_pattern(self) -> int:
        """Reds on, everything else off: the watchdog's and the power-on output state."""
        return (1 << self.outputs["entry_red"]) | (1 << self.outputs["exit_red"])


@dataclass(slots=True)
class LaneSetup:
    lane_id: str
    params: LaneParams
    wiring: Wiring
    io: IoPort
    barriers: Mapping[Side, BarrierPort]
    scale: ScalePort
    rfid: RfidPort
    io_poll_s: float = 0.05
    barrier_poll_s: Mapping[Side, float] = field(
        default_factory=lambda: {Side.ENTRY: 0.1, Side.EXIT: 0.1}
    )
    scale_request_s: float = 0.0  # SMA: the weight request period (0: back to back)
    rfid_poll_s: float = 0.2
    safe_s: float = 0.25  # S7: budget run out -> reds confirmed on the wire
    rfid_debounce_s: float = 5.0
    watchdog_ms: int = 300
    fresh_s: Mapping[Device, float] = field(
        default_factory=lambda: {
            Device.IO: 0.2,
            Device.ENTRY_BARRIER: 0.5,
            Device.EXIT_BARRIER: 0.5,
            Device.SCALE: 0.5,
            Device.RFID: 1.0,
        }
    )
    device_timeout_s: float = 0.5
    sides: Sequence[Side] = (Side.ENTRY, Side.EXIT)
    endpoints: Mapping[str, str] = field(default_factory=dict)  # device -> URL, for the logs
    cameras: Mapping[Side, CameraPort] = field(default_factory=dict)  # none: no camera
    listeners: Sequence[ListenerPort] = ()  # the cameras' listener, not yet started
