"""Each device's link as the logs tell it: connected, unreachable, lost, recovered.

Theory of operation: the lane reports every exchange here (cheap: one dict lookup when
nothing changed) and every loss its freshness check declares (S7). A line is logged
only when the link's state changes, never per retry: `device_connected` at the first
good exchange, `device_unreachable` when a device fails before it ever answered (a
device missing at start never goes stale, so freshness alone would say nothing),
`device_lost` when freshness declares it stale, `device_recovered` (with how long it was
down, in loop time) at the first good exchange after either. Failures in between are
debug lines. Simulations and the demo, whose faults are injected on purpose, keep
the states without the lines (`logged=False`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from enum import Enum

from controller.core.types import Device
from controller.runtime.logs import log_event

log = logging.getLogger("controller.runtime.devices")


class Link(Enum):
    UP = "up"
    DOWN = "down"
    UNREACHABLE = "unreachable"


class DeviceLinks:
    def __init__(self, lane: str, endpoints: Mapping[Device, str], *, logged: bool = True) -> None:
        self.lane, self.endpoints, self.logged = lane, endpoints, logged
        self._state: dict[Device, Link] = {}
        self._down_since: dict[Device, float] = {}

    def ok(self, device: Device, now: float) -> None:
        state = self._state.get(device)
        if state is Link.UP:
            return
        self._state[device] = Link.UP
        if state is None:
            self._log(logging.INFO, "device_connected", device, "connected")
            return
        down_s = round(now - self._down_since.pop(device, now), 3)
        self._log(logging.INFO, "device_recovered", device, "recovered", down_s=down_s)

    def failed(self, device: Device, error: str, now: float) -> None:
        if device in self._state:
            if self.logged and log.isEnabledFor(logging.DEBUG):
                log_event(log, logging.DEBUG, "device_error", error, lane=self.lane, device=device)
            return
        self._state[device] = Link.UNREACHABLE
        self._down_since[device] = now
        self._log(logging.WARNING, "device_unreachable", device, "unreachable", error=error)

    def lost(self, device: Device, reason: str, now: float) -> None:
        if self._state.get(device) is not Link.UP:
            return
        self._state[device] = Link.DOWN
        self._down_since[device] = now
        self._log(logging.WARNING, "device_lost", device, "lost", reason=reason)

    def _log(self, level: int, event: str, device: Device, what: str, **fields: object) -> None:
        if not self.logged:
            return
        endpoint = self.endpoints.get(device, "")
        text = what + (f" at {endpoint}" if endpoint else "")
        if "down_s" in fields:
            text += f" after {fields['down_s']} s"
        for key in ("error", "reason"):
            if key in fields:
                text += f": {fields[key]}"
        fields["endpoint"] = endpoint
        log_event(log, level, event, text, lane=self.lane, device=device.value, fields=fields)
