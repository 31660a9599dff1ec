"""The gateway: many lanes in one process, the maintenance socket, a clean stop.

Theory of operation: `Gateway.run()` runs one TaskGroup holding every lane's runtime and
the maintenance server. SIGTERM/SIGINT cancel the group; each lane's I/O loop writes
all-red on its way out, so a stopped controller leaves every light red. Operator requests
from the socket become `OperatorCommanded` events in the named lane; the lane core's
answer (accepted, a no-op, or refused with the reason) goes back to the caller; a lane
this gateway does not have is a usage error. A confirm or refuse that names the approach
vehicle's clearance request is refused here when another vehicle stands there by now.
`gatectl events` shows each event once journaled, with the seq, event_id and ts the
journal gave it.
"""

from __future__ import annotations

import asyncio
import contextlib
import faulthandler
import logging
import os
import signal
import sys
import threading
from collections import deque
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from typing import Protocol

from controller.core.commands import PublishEvent
from controller.core.events import OperatorCommanded
from controller.core.types import OperatorAction
from controller.maintenance.protocol import DiagRequest
from controller.maintenance.server import Caller, MaintenanceServer, Operation
from controller.runtime import passthrough
from controller.runtime.lane import LaneRuntime
from controller.runtime.ports import JournaledEvent

RECENT = 1000
ON_THE_APPROACH = frozenset({OperatorAction.CONFIRM, OperatorAction.REFUSE})
STOP_DEADLINE_S = 8.0
STOP_OVERDUE_EXIT = 70  # EX_SOFTWARE: the stop did not finish by itself
log = logging.getLogger(__name__)


class SnapshotReader(Protocol):
    async def get(self, sha256: str) -> bytes | None: ...


class Gateway:
    def __init__(
        self, lanes: Sequence[LaneRuntime], snapshots: SnapshotReader | None = None
    ) -> None:
        self.lanes = {lane.setup.lane_id: lane for lane in lanes}
        self.snapshots = snapshots
        self.recent: deque[dict[str, object]] = deque(maxlen=RECENT)
        self._followers: set[asyncio.Queue[dict[str, object]]] = set()
        for lane in lanes:
            lane.journaled.append(self._on_event)

    async def run(
        self,
        server: MaintenanceServer | None = None,
        services: Sequence[Callable[[], Coroutine[object, object, None]]] = (),
    ) -> None:
        """Run every lane, the socket and `services` (the MQTT bridge) until cancelled."""
        loop = asyncio.get_running_loop()
        current = asyncio.current_task()
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, _cancel, current)
        try:
            async with asyncio.TaskGroup() as tg:
                for lane_id, lane in self.lanes.items():
                    tg.create_task(lane.run(), name=f"lane:{lane_id}")
                if server is not None:
                    tg.create_task(server.serve(), name="maintenance")
                for service in services:
                    tg.create_task(service(), name=getattr(service, "__qualname__", "service"))
        except asyncio.CancelledError:
            if current is not None and current.cancelling():
                current.uncancel()
        finally:
            for sig in (signal.SIGTERM, signal.SIGINT):
                with contextlib.suppress(NotImplementedError, RuntimeError):
                    loop.remove_signal_handler(sig)

    # ------------------------------------------------------------------ GatewayControl
    def status(self) -> dict[str, object]:
        lanes = [lane.snapshot() for lane in self.lanes.values()]
        return {"lanes": lanes, "monotonic_s": asyncio.get_running_loop().time()}

    async def snapshot_jpeg(self, sha256: str) -> bytes | None:
        """A camera read's kept snapshot (None without cameras, or once pruned)."""
        return None if self.snapshots is None else await self.snapshots.get(sha256)

    def recent_events(self, last: int) -> list[dict[str, object]]:
        return list(self.recent)[-last:] if last else []

    async def follow_events(self) -> AsyncIterator[dict[str, object]]:
        queue: asyncio.Queue[dict[str, object]] = asyncio.Queue(maxsize=RECENT)
        self._followers.add(queue)
        try:
            while True:
                yield await queue.get()
        finally:
            self._followers.discard(queue)

    def operate(self, op: Operation, caller: Caller) -> dict[str, object]:
        lane = self.lanes.get(op.lane)
        if lane is None:
            return self._no_lane(op.lane)
        if caller.role is None:
            return {"accepted": False, "refused": "no role"}
        if other := another_vehicle(lane, op):
            return {"accepted": False, "refused": other}
        event = OperatorCommanded(
            lane.now(),
            op.action,
            caller.user,
            caller.role,
            authenticated=True,
            side=op.side,
            tag=op.tag,
            reason=op.reason,
            args=op.args,
        )
        answer: dict[str, object] = {"accepted": True}
        for command in lane.feed(event):
            if isinstance(command, PublishEvent) and command.type == "operator_refused":
                return {"accepted": False, "refused": str(command.data.get("refused", ""))}
            if isinstance(command, PublishEvent) and command.type == "operator_noop":
                answer["noop"] = str(command.data.get("why", ""))  # accepted, nothing sent
            if isinstance(command, PublishEvent) and command.type == "mode_pending":
                answer["pending"] = command.data["message"]  # e.g. maintenance after the vehicle
        return answer | {"state": lane.snapshot()["state"]}

    async def diag(self, request: DiagRequest, caller: Caller) -> dict[str, object]:
        """`gatectl diag modbus` through the controller, on a lane in maintenance."""
        lane = self.lanes.get(request.lane)
        if lane is None:
            return self._no_lane(request.lane)
        return await passthrough.serve(lane, request, caller, self.operate)

    def _no_lane(self, lane_id: str) -> dict[str, object]:
        # a usage error, not a refusal: nothing was commanded
        known = ", ".join(self.lanes) or "none"
        return {
            "accepted": False,
            "kind": "usage",
            "refused": f"lane: no lane {lane_id!r} on this gateway (lanes: {known})",
        }

    def set_alarm(self, lane_id: str, name: str, text: str | None) -> None:
        """Raise (`text`) or clear (None) a gateway-level alarm on a lane (clock health)."""
        lane = self.lanes.get(lane_id)
        if lane is None:
            return
        if text is None:
            lane.clear_gateway_alarm(name)
        else:
            lane.raise_gateway_alarm(name, text)

    def _on_event(self, lane: str, event: PublishEvent, written: JournaledEvent) -> None:
        # the journal's identity of the event, as the MQTT events topic carries it
        record: dict[str, object] = {"lane": lane, "type": event.type, **dict(event.data)}
        record.update(seq=written.seq, event_id=written.event_id, ts=written.ts)
        self.recent.append(record)
        for queue in self._followers:
            with contextlib.suppress(asyncio.QueueFull):
                queue.put_nowait(record)


def another_vehicle(lane: LaneRuntime, op: Operation) -> str:
    """Why a confirm/refuse naming a clearance request (`args.request_id`) must not act:
    the vehicle at the approach is another one by now, or none. The officer vouched for
    the one they checked, never for whichever truck has taken its place."""
    wanted = op.args.get("request_id")
    if op.action not in ON_THE_APPROACH or wanted is None:
        return ""
    approach = None if lane.core is None else lane.core.approach
    if approach is None or approach.request_id != wanted:
        return f"request_id: {wanted!r} is not the vehicle at the approach"
    return ""


def _cancel(task: asyncio.Task[object] | None) -> None:
    if task is not None:
        task.cancel()
    # The clean stop (all-red writes, journal backlog, broker goodbye) is bounded piece by
    # piece; should it still not end, exit anyway rather than ignore SIGTERM: the I/O
    # modules' watchdogs hold the lights red and every commit is already durable.
    loop = asyncio.get_running_loop()
    overdue = threading.Timer(STOP_DEADLINE_S, _stop_overdue, args=(loop,))
    overdue.daemon = True
    overdue.start()


def _stop_overdue(loop: asyncio.AbstractEventLoop) -> None:
    log.error("clean stop overdue after %.0f s: exiting; the threads were:", STOP_DEADLINE_S)
    faulthandler.dump_traceback(all_threads=True)
    # and the tasks still pending, to name what the stop waits for (read from this thread
    # while the loop may run: best effort, for the record of a process about to exit)
    with contextlib.suppress(Exception):
        for task in list(asyncio.all_tasks(loop)):
            log.error("task %s still pending:", task.get_name())
            task.print_stack(limit=8, file=sys.stderr)
    os._exit(STOP_OVERDUE_EXIT)
