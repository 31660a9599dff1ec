"""A lane's camera loop: each side's plate reads, their snapshots kept, fed to the core.

Theory of operation: one task per camera (a task of the lane's TaskGroup, lane.py) takes
the driver's reads (already authenticated and deduplicated, devices/camera), stores the
read's JPEG under its sha256 and then feeds `PlateReported` naming that hash. The read
matters more than its picture: a snapshot that cannot be written (a full or failing disk,
a write slower than `SNAPSHOT_WRITE_S`) is counted, logged once per run of failures, and
the read is fed all the same with its hash, so the cross-check of the tag never waits on
a disk. Nothing here raises out of the task: a camera that goes quiet is the core's to
notice (`missing_alarm_after` vehicles without a read).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from typing import Protocol

from controller.core.commands import Command
from controller.core.events import Event, PlateReported
from controller.core.types import Side
from controller.errors import DeviceTimeout, GateError
from controller.runtime.setup import CameraPort, PlateReadLike

log = logging.getLogger(__name__)
IDLE_S = 60.0  # how long one wait for a read lasts (the loop just waits again)
SNAPSHOT_WRITE_S = 2.0  # past this the read is fed without waiting for its snapshot


class CameraHost(Protocol):
    """What the camera loop needs of its lane (the runtime, lane.py, is one)."""

    def now(self) -> float: ...
    def feed(self, event: Event) -> list[Command]: ...


class SnapshotPort(Protocol):
    """Where snapshots go (controller.journal.snapshots.SnapshotStore)."""

    async def put(self, sha256: str, jpeg: bytes) -> object: ...


class CameraLoop:
    def __init__(
        self,
        lane_id: str,
        host: CameraHost,
        side: Side,
        driver: CameraPort,
        store: SnapshotPort | None,
    ) -> None:
        self.lane_id, self.host, self.side = lane_id, host, side
        self.driver, self.store = driver, store
        self.snapshot_failures = 0
        self._failing = False
        self.last: dict[str, object] | None = None  # the last read, as status shows it

    async def run(self) -> None:
        while True:
            try:
                read = await self.driver.next_read(IDLE_S)
            except DeviceTimeout:
                continue  # a quiet camera: the core judges missing reads, not the loop
            await self.take(read)

    async def take(self, read: PlateReadLike) -> None:
        """Store the read's snapshot, then feed it (with its hash whatever the store said)."""
        sha256 = hashlib.sha256(read.snapshot_jpeg).hexdigest()
        await self._store(sha256, read.snapshot_jpeg)
        now = self.host.now()
        self.last = {"plate": read.plate, "confidence": read.confidence, "at": now}
        self.host.feed(
            PlateReported(
                now=now,
                side=self.side,
                camera=read.camera,
                event_id=read.event_id,
                plate=read.plate,
                country=read.country,
                confidence=read.confidence,
                snapshot_sha256=sha256,
            )
        )

    async def _store(self, sha256: str, jpeg: bytes) -> None:
        if self.store is None:
            return
        try:
            async with asyncio.timeout(SNAPSHOT_WRITE_S):
                await self.store.put(sha256, jpeg)
        except (GateError, OSError, ValueError, TimeoutError) as error:
            self._failed(sha256, error)
            return
        if self._failing:
            self._failing = False
            log.info("lane %s: %s camera snapshots stored again", self.lane_id, self.side)

    def _failed(self, sha256: str, error: Exception) -> None:
        self.snapshot_failures += 1
        if self._failing:  # once per run of failures: a full disk must not flood the log
            return
        self._failing = True
        extra = {"lane": self.lane_id, "event": "snapshot_write_failed", "sha256": sha256}
        reason = str(error) or f"no answer in {SNAPSHOT_WRITE_S} s"
        log.error(
            "lane %s: %s camera snapshot %s not stored (the read is fed anyway): %s",
            self.lane_id,
            self.side,
            sha256,
            reason,
            extra=extra,
        )

    def status(self) -> dict[str, object]:
        """The camera as `gatectl status` shows it: the driver's counters and ours."""
        counters = self.driver.counters()
        return {
            "side": self.side.value,
            "accepted": counters.accepted,
            "duplicates": counters.duplicates,
            "dropped": counters.dropped,
            "rejected": dict(counters.rejected),
            "snapshot_failures": self.snapshot_failures,
            "last_read": self.last,
        }
