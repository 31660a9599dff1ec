"""Device freshness (S7): who spoke last, and who has gone quiet for too long.

Each device has a `fresh_s` budget. A successful poll marks it fresh; the lane's freshness
task sleeps until `next_check(now)`: the moment the first healthy device would run out of
budget (just after it), never longer than the smallest budget (a device that turns healthy
while it sleeps cannot run out before it wakes). So a stale device is found at its
deadline, not up to a check period later, and a lane whose devices answer wakes its
checker a few times a second instead of twenty. Whatever the cause (timeouts, CRC errors,
silence, or an event-loop stall: the check runs on the same loop), lights go red well
within `safe_ms` (250 ms) of the budget running out; the I/O loop measures each such
reaction against that deadline (`IoLoop.expect_safe_by`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from controller.core.types import Device

CHECK_MARGIN_S = 0.001  # stale means strictly older than the budget: look just after it


@dataclass(slots=True)
class _Status:
    fresh_s: float
    last_ok: float | None = None
    healthy: bool = False
    last_error: str = ""
    errors: int = 0  # failed exchanges since start (metrics)


class Freshness:
    def __init__(self, budgets: Mapping[Device, float]) -> None:
        self._status = {device: _Status(fresh_s) for device, fresh_s in budgets.items()}

    def next_check(self, now: float) -> float:
        """When to look next: just after the first healthy device's budget runs out."""
        statuses = self._status.values()
        soonest = now + min(s.fresh_s for s in statuses)
        for status in statuses:
            if status.healthy and status.last_ok is not None:
                soonest = min(soonest, status.last_ok + status.fresh_s + CHECK_MARGIN_S)
        return max(soonest, now)

    def ok(self, device: Device, now: float) -> bool:
        """Record a good exchange; True when the device just became healthy."""
        status = self._status[device]
        status.last_ok = now
        if status.healthy:
            return False
        status.healthy = True
        return True

    def ran_out_at(self, device: Device) -> float | None:
        """When the device's last good data ran out of its budget (None: never had any)."""
        status = self._status[device]
        return None if status.last_ok is None else status.last_ok + status.fresh_s

    def failed(self, device: Device, error: str) -> None:
        status = self._status[device]
        status.last_error = error
        status.errors += 1

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

    def figures(self, now: float) -> dict[Device, tuple[int, float | None]]:
        """Per device: failed exchanges so far, and the age of its last good data."""
        return {
            d: (s.errors, None if s.last_ok is None else now - s.last_ok)
            for d, s in self._status.items()
        }

    def snapshot(self) -> dict[str, dict[str, object]]:
        return {
            d.value: {"healthy": s.healthy, "last_ok": s.last_ok, "error": s.last_error}
            for d, s in self._status.items()
        }
