"""The lane camera driver: one camera's plate reads out of the listener's queue.

Thin: the listener (devices/camera/listener.py) has already validated and authorised each
event. The driver suppresses duplicates (a camera that timed out waiting for our answer
posts the same `event_id` again), remembering the last `dedupe_window` ids, and reports
the counters a technician checks: accepted, duplicates, dropped by the full queue, and the
listener's rejections by reason (those cannot always be pinned on one camera: a request
with wrong credentials names no camera anyone can trust).
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from dataclasses import dataclass

from controller.errors import DeviceTimeout
from devices.camera.codec import PlateRead
from devices.camera.listener import CameraListener


@dataclass(frozen=True, slots=True)
class CameraCounters:
    accepted: int
    duplicates: int
    dropped: int
    rejected: dict[str, int]


class CameraDriver:
    def __init__(self, listener: CameraListener, camera_id: str, dedupe_window: int = 1024) -> None:
        if camera_id not in listener.queues:
            raise ValueError(f"camera {camera_id!r} is not configured on {listener.name}")
        if dedupe_window < 1:
            raise ValueError(f"dedupe_window: at least 1, not {dedupe_window}")
        self.listener, self.camera_id, self.name = listener, camera_id, camera_id
        self._queue = listener.queues[camera_id]
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._window = dedupe_window
        self.duplicates = 0

    async def next_read(self, timeout_s: float) -> PlateRead:
        """The next read not seen before; `DeviceTimeout` when none comes in `timeout_s`."""
        try:
            async with asyncio.timeout(timeout_s):
                while True:
                    read = await self._queue.get()
                    if read.event_id not in self._seen:
                        self._remember(read.event_id)
                        return read
                    self.duplicates += 1
        except TimeoutError:
            raise DeviceTimeout(self.name, f"no plate read within {timeout_s}s") from None

    def _remember(self, event_id: str) -> None:
        self._seen[event_id] = None
        if len(self._seen) > self._window:
            self._seen.popitem(last=False)

    def counters(self) -> CameraCounters:
        return CameraCounters(
            accepted=self.listener.accepted[self.camera_id],
            duplicates=self.duplicates,
            dropped=self._queue.dropped,
            rejected=dict(self.listener.rejected),
        )
