"""A small gateway on a real maintenance socket, for gatectl's client commands.

The gateway and the server are the real ones; its one lane answers operator commands as
the core would (a barrier opened outside maintenance is refused by the interlock, a
closed barrier told to close is a no-op), so the client's exit codes are tested against
real answers over a real unix socket. The server runs on its own event loop in a thread,
as the controller would in its own process. The caller is identified by SO_PEERCRED:
these tests run as root, an officer.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import cast

from controller.core.commands import Command, PublishEvent
from controller.core.events import Event, OperatorCommanded
from controller.core.types import OperatorAction
from controller.maintenance.audit import AuditLog
from controller.maintenance.server import MaintenanceServer
from controller.runtime.gateway import Gateway
from controller.runtime.lane import LaneRuntime
from controller.runtime.ports import JournaledEvent

SNAPSHOT: dict[str, object] = {
    "lane": "L01",
    "state": "idle",
    "lights": {"entry": "red", "exit": "red"},
    "barriers": {"entry": "closed", "exit": "closed"},
    "deck_kg": 0.0,
    "deck_vehicle": None,
    "alarms": {},
    "latched_fault": None,
    "devices": {
        "io": {
            "healthy": True,
            "last_ok": 12.5,
            "last_ok_at": "2027-01-15T08:00:00.000Z",
            "error": "",
        }
    },
}


@dataclass
class AnsweringLane:
    setup: SimpleNamespace = field(default_factory=lambda: SimpleNamespace(lane_id="L01"))
    journaled: list[object] = field(default_factory=list)
    listeners: list[object] = field(default_factory=list)
    core: None = None  # no vehicle at the approach: a confirm naming one is refused

    def now(self) -> float:
        return 0.0

    def snapshot(self) -> dict[str, object]:
        return dict(SNAPSHOT)

    def feed(self, event: Event) -> list[Command]:
        assert isinstance(event, OperatorCommanded)
        if event.action == OperatorAction.BARRIER_OPEN:
            refused = "S2: not in maintenance mode"
            return [PublishEvent("operator_refused", {"refused": refused})]
        if event.action == OperatorAction.BARRIER_CLOSE:
            return [PublishEvent("operator_noop", {"why": "entry barrier already closed"})]
        return [PublishEvent("operator_command", {"action": event.action.value})]


@dataclass
class Served:
    socket: Path
    gateway: Gateway
    audit: AuditLog
    loop: asyncio.AbstractEventLoop

    def journal(self, type_: str, seq: int, **data: object) -> None:
        """The lane journaled an event: the gateway hears it as the runtime tells it."""
        written = JournaledEvent(seq, f"event-{seq}", f"2027-01-15T08:00:{seq:02d}.000Z")
        self.loop.call_soon_threadsafe(
            self.gateway._on_event, "L01", PublishEvent(type_, data), written
        )


@contextmanager
def served_gateway(tmp: Path) -> Iterator[Served]:
    path = tmp / "gatectl.sock"
    gateway = Gateway([cast(LaneRuntime, AnsweringLane())])
    audit = AuditLog(tmp / "audit.log")
    ready = threading.Event()
    server = MaintenanceServer(path, gateway, audit, {}, on_listening=ready.set)
    loop = asyncio.new_event_loop()

    def serve() -> None:
        with suppress(asyncio.CancelledError):
            loop.run_until_complete(server.serve())

    thread = threading.Thread(target=serve, name="maintenance-server")
    thread.start()
    try:
        assert ready.wait(5), "the maintenance server did not start"
        yield Served(path, gateway, audit, loop)
    finally:
        loop.call_soon_threadsafe(lambda: [t.cancel() for t in asyncio.all_tasks(loop)])
        thread.join(5)
        loop.close()
