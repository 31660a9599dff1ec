"""A real maintenance socket (MaintenanceServer, the real protocol and audit) served in a
thread of its own, over a scripted gateway: the console's tests talk to it as the console
talks to a running controller."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from controller.core.types import Role
from controller.maintenance.audit import AuditLog
from controller.maintenance.server import Caller, MaintenanceServer, Operation

OFFICER_ONLY = {"release", "reject", "identify", "confirm", "refuse", "reset", "mode_emergency"}
ROLES = {Role.VIEWER: "nobody-v", Role.TECHNICIAN: "nobody-t", Role.OFFICER: "nobody-o"}


def held_lane() -> dict[str, object]:
    return {
        "lane": "L01",
        "state": "hold",
        "lights": {"entry": "red", "exit": "red"},
        "barriers": {"entry": "closed", "exit": "closed"},
        "deck_kg": 41250.0,
        "deck_vehicle": "E28011000000000000000001",
        "deck_transaction": "tx-0001",
        "hold_reason": "weight out of tolerance: 41250 kg vs declared 30000 kg",
        "deck_gross_kg": 41250,
        "deck_declared_kg": 30000,
        "deck_decision": "grant",
        "deck_times": {"hold": 100.0},
        "approach": "waiting_tag",
        "approach_tag": None,
        "latched_fault": None,
        "alarms": {},
        "devices": {"scale": {"healthy": False, "last_ok": 99.0, "error": "timeout"}},
    }


@dataclass
class FakeGateway:
    lanes: list[dict[str, object]] = field(default_factory=lambda: [held_lane()])
    refusals: dict[str, str] = field(default_factory=dict)  # action -> the lane's reason
    operated: list[tuple[Operation, Caller]] = field(default_factory=list)
    on_status: Callable[[int], None] = lambda _count: None
    statuses: int = 0
    events: asyncio.Queue[dict[str, object]] | None = None
    snapshots: dict[str, bytes] = field(default_factory=dict)  # sha256 -> JPEG

    def status(self) -> dict[str, object]:
        self.statuses += 1
        self.on_status(self.statuses)
        return {"lanes": self.lanes, "monotonic_s": 165.0}

    def recent_events(self, last: int) -> list[dict[str, object]]:
        history: list[dict[str, object]] = [{"lane": "L01", "type": "state_changed"}]
        return history[-last:] if last else []

    async def follow_events(self) -> AsyncIterator[dict[str, object]]:
        assert self.events is not None
        while True:
            yield await self.events.get()

    async def snapshot_jpeg(self, sha256: str) -> bytes | None:
        return self.snapshots.get(sha256)

    def operate(self, op: Operation, caller: Caller) -> dict[str, object]:
        self.operated.append((op, caller))
        action = op.action.value
        if action in OFFICER_ONLY and caller.role != Role.OFFICER:
            return {"accepted": False, "refused": f"{action} needs an officer"}
        if action in self.refusals:
            return {"accepted": False, "refused": self.refusals[action]}
        return {"accepted": True, "state": "releasing"}


@dataclass
class Served:
    path: Path
    gateway: FakeGateway
    audit: AuditLog
    loop: asyncio.AbstractEventLoop

    def push_event(self, event: dict[str, object]) -> None:
        queue = self.gateway.events
        assert queue is not None
        self.loop.call_soon_threadsafe(queue.put_nowait, event)


@contextmanager
def serve_socket(tmp: Path, gateway: FakeGateway, console_group: str | None) -> Iterator[Served]:
    """The socket, listening, until the block ends."""
    loop = asyncio.new_event_loop()
    listening = threading.Event()
    audit = AuditLog(tmp / "audit.log")
    server = MaintenanceServer(
        tmp / "gatectl.sock", gateway, audit, ROLES, listening.set, console_group=console_group
    )

    def run() -> None:
        asyncio.set_event_loop(loop)
        gateway.events = asyncio.Queue()
        task = loop.create_task(server.serve())
        loop.run_until_complete(asyncio.gather(task, return_exceptions=True))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert listening.wait(5), "the socket did not come up"
    try:
        yield Served(server.path, gateway, audit, loop)
    finally:
        loop.call_soon_threadsafe(lambda: [task.cancel() for task in asyncio.all_tasks()])
        thread.join(5)
        loop.close()
