"""Device freshness (S7): who spoke last, and who has gone quiet for too long.

Each device has a `fresh_s` budget. A successful poll marks it fresh; the lane's freshness
task asks `stale(now)` often enough (a quarter of the smallest budget, at most 50 ms) that
lights go red well within `safe_ms` (250 ms) of the budget running out, whatever the cause:
timeouts, CRC errors, silence, or an event-loop stall (the check runs on the same loop).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from controller.core.types import Device


@dataclass(slots=True)
class _Status:
    fresh_s: float
    last_ok: float | None = None
    healthy: bool = False
    last_error: str = ""


class Freshness:
    def __init__(self, budgets: Mapping[Device, float]) -> None:
        self._status = {device: _Status(fresh_s) for device, fresh_s in budgets.items()}

    @property
    def check_period(self) -> float:
        return min(0.05, min(s.fresh_s for s in self._status.values()) / 4)

    def ok(self, device: Device, now: float) -> bool:
        """Record a good exchange; True when the device just became healthy."""
        status = self._status[device]
        status.last_ok = now
        if status.healthy:
            return False
        status.healthy = True
        return True

    def failed(self, device: Device, error: str) -> None:
        self._status[device].last_error = error

    def stale(self, now: float) -> list[tuple[Device, str]]:
        """Devices that just went stale, with the reason; each reported once per loss."""
        found: list[tuple[Device, str]] = []
        for device, status in self._status.items():
            if not status.healthy or status.last_ok is None:
                continue
            if now - status.last_ok > status.fresh_s:
                status.healthy = False
                age = now - status.last_ok
                found.append((device, f"no good data for {age * 1000:.0f} ms: {status.last_error}"))
        return found

    def snapshot(self) -> dict[str, dict[str, object]]:
        return {
            d.value: {"healthy": s.healthy, "last_ok": s.last_ok, "error": s.last_error}
            for d, s in self._status.items()
        }
