"""Each link's story as the logs tell it: connected, unreachable, lost, recovered.

Theory of operation: the lane reports every exchange with a device here (cheap: one
dict lookup when nothing changed) and every loss its freshness check declares (S7); the
MQTT bridge reports its broker the same way. A line is logged only when the link's state
changes, never per retry: `<kind>_connected` at the first good exchange,
`<kind>_unreachable` when it fails before it ever answered (a device missing at start
never goes stale, so freshness alone would say nothing), `<kind>_lost` when it is
declared lost, `<kind>_recovered` (with how long it was down, in loop time) at the first
good exchange after either; `kind` is `device` or `broker`. Failures in between are
debug lines. Simulations and the demo, whose faults are injected on purpose, keep the
states without the lines (`logged=False`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from enum import Enum

from controller.runtime.logs import log_event

log = logging.getLogger("controller.runtime.devices")


class Link(Enum):
    UP = "up"
    DOWN = "down"
    UNREACHABLE = "unreachable"


class DeviceLinks:
    def __init__(
        self,
        lane: str | None,
        endpoints: Mapping[str, str],
        *,
        logged: bool = True,
        kind: str = "device",
    ) -> None:
        self.lane, self.endpoints, self.logged, self.kind = lane, endpoints, logged, kind
        self._state: dict[str, Link] = {}
        self._down_since: dict[str, float] = {}

    def ok(self, name: str, now: float) -> None:
        state = self._state.get(name)
        if state is Link.UP:
            return
        self._state[name] = Link.UP
        if state is None:
            self._log(logging.INFO, "connected", name)
            return
        down_s = round(now - self._down_since.pop(name, now), 3)
        self._log(logging.INFO, "recovered", name, down_s=down_s)

    def failed(self, name: str, error: str, now: float) -> None:
        if name in self._state:
            if self.logged and log.isEnabledFor(logging.DEBUG):
                log_event(log, logging.DEBUG, f"{self.kind}_error", error, lane=self.lane)
            return
        self._state[name] = Link.UNREACHABLE
        self._down_since[name] = now
        self._log(logging.WARNING, "unreachable", name, error=error)

    def lost(self, name: str, reason: str, now: float) -> None:
        if self._state.get(name) is not Link.UP:
            return
        self._state[name] = Link.DOWN
        self._down_since[name] = now
        self._log(logging.WARNING, "lost", name, reason=reason)

    def _log(self, level: int, what: str, name: str, **fields: object) -> None:
        if not self.logged:
            return
        endpoint = self.endpoints.get(name, "")
        text = what + (f" at {endpoint}" if endpoint else "")
        if "down_s" in fields:
            text += f" after {fields['down_s']} s"
        for key in ("error", "reason"):
            if key in fields:
                text += f": {fields[key]}"
        fields["endpoint"] = endpoint
        event = f"{self.kind}_{what}"
        log_event(log, level, event, text, lane=self.lane, device=str(name), fields=fields)
