"""The gateway as a systemd service (deploy/systemd/gatebridge.service, docs/operations.md).

Theory of operation: `ServiceNotifier.run()` is one of the gateway's services, so it runs
on the same event loop as every lane. It waits until each lane has booted into its safe
state (`LaneRuntime.booted`: lights red on the wire, or a latched fault), then sends
READY=1 with a STATUS= line, and a new STATUS= line whenever a lane changes state. The
WATCHDOG=1 pings come from a plain asyncio task on a timer: should anything block the
loop (a stuck call, a busy handler), the pings stop with it and systemd restarts the
process after WatchdogSec, which a thread that pings on its own would hide. A clean stop
(the task is cancelled with the gateway) sends STOPPING=1.

Test-only: with $GATEBRIDGE_TEST_STALL_S set, SIGUSR2 blocks the event loop for that many
seconds, so a test can show that a stalled loop stops the pings. Nothing sets it in
production; the controller logs a warning when it is on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import threading
from collections.abc import Mapping

from controller.core.commands import PublishEvent
from controller.errors import ConfigError
from controller.runtime.gateway import Gateway
from controller.runtime.lane import LaneRuntime
from controller.runtime.sdnotify import Notifier

log = logging.getLogger(__name__)
TEST_STALL_ENV = "GATEBRIDGE_TEST_STALL_S"


def status_line(gateway: Gateway) -> str:
    """`2 lanes: L01 idle, L02 weighing`: what `systemctl status` shows."""
    lanes = [f"{lane_id} {lane_state(lane)}" for lane_id, lane in gateway.lanes.items()]
    return f"{len(lanes)} lane{'s' if len(lanes) != 1 else ''}: {', '.join(lanes)}"


def lane_state(lane: LaneRuntime) -> str:
    return "starting" if lane.core is None else lane.core.state.value


class ServiceNotifier:
    def __init__(self, gateway: Gateway, notifier: Notifier) -> None:
        self.gateway = gateway
        self.notifier = notifier
        self.ready = asyncio.Event()  # READY=1 sent

    async def run(self) -> None:
        """READY once every lane booted, then STATUS on changes; STOPPING on the way out."""
        if not self.notifier.enabled:
            return
        interval = self.notifier.watchdog_s
        watchdog = None if interval is None else asyncio.create_task(self._keep_watchdog(interval))
        try:
            await asyncio.gather(*(lane.booted.wait() for lane in self.gateway.lanes.values()))
            self.notifier.send(READY=1, STATUS=status_line(self.gateway))
            self.ready.set()
            for lane in self.gateway.lanes.values():
                lane.listeners.append(self._on_event)
            await asyncio.get_running_loop().create_future()  # until the gateway stops
        finally:
            if watchdog is not None:
                watchdog.cancel()
            self.notifier.send(STOPPING=1, STATUS="stopping: lights to red, journal to disk")
            self.notifier.close()

    async def _keep_watchdog(self, interval_s: float) -> None:
        while True:
            self.notifier.send(WATCHDOG=1)
            await asyncio.sleep(interval_s)

    def _on_event(self, _lane: str, event: PublishEvent) -> None:
        if event.type == "state_changed":
            self.notifier.send(STATUS=status_line(self.gateway))


def install_test_stall(env: Mapping[str, str] | None = None) -> bool:
    """Test-only: SIGUSR2 blocks the loop for $GATEBRIDGE_TEST_STALL_S seconds."""
    value = (os.environ if env is None else env).get(TEST_STALL_ENV, "")
    if not value:
        return False
    try:
        seconds = float(value)
    except ValueError:
        raise ConfigError(TEST_STALL_ENV, f"{value!r} is not a number of seconds") from None
    log.warning("%s is set: SIGUSR2 stalls the event loop (tests only)", TEST_STALL_ENV)
    loop = asyncio.get_running_loop()
    with contextlib.suppress(NotImplementedError, RuntimeError):
        # Event.wait blocks this thread, and with it the loop, without reading a clock
        loop.add_signal_handler(signal.SIGUSR2, threading.Event().wait, seconds)
    return True
