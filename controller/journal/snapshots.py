"""The cameras' JPEG snapshots on disk, by the sha256 the journal names them with.

Theory of operation: a snapshot is `<dir>/<ab>/<sha256>.jpg` (`ab`: the hash's first two
hex digits, so no directory grows past a few thousand files). A write goes to a temporary
file in the same directory, is fsynced, renamed over its name and the directory fsynced,
so a crash leaves the whole image or none of it, never a torn one under its hash. The
same hash again is the same bytes: the file is kept and only its time refreshed, since
retention counts age from the last read that named it. Retention (`prune`) works like the
journal's (DESIGN 6): past `max_age_s`, then oldest first until the total is under
`max_bytes`. Disk work runs on one thread of the store's own, off the event loop, so a
slow disk delays snapshots, never a lane's step nor the journal's writer thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import re
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from controller.errors import GateError

SHA256_HEX = re.compile(r"[0-9a-f]{64}")
TMP_SUFFIX = ".tmp"
STALE_TMP_S = 3600.0  # a temporary file this old was left by a crash mid-write
MIB = 1024 * 1024
T = TypeVar("T")


class SnapshotError(GateError):
    """A snapshot could not be written or pruned; the message names the file."""


@dataclass(frozen=True, slots=True)
class SnapshotLimits:
    max_age_s: float = 90 * 86_400.0
    max_bytes: int = 2048 * MIB


def snapshot_hash(jpeg: bytes) -> str:
    """The name a snapshot is stored and journaled under: its sha256, lower-case hex."""
    return hashlib.sha256(jpeg).hexdigest()


class SnapshotStore:
    def __init__(
        self,
        directory: Path,
        limits: SnapshotLimits = SnapshotLimits(),
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.dir, self.limits = directory, limits
        self._clock = wall_clock
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="snapshots")

    def path_for(self, sha256: str) -> Path:
        """Where the snapshot `sha256` lives (whether or not it is there); a name that is
        not 64 lower-case hex digits is refused, so no lookup leaves the directory."""
        if not SHA256_HEX.fullmatch(sha256):
            raise ValueError(f"snapshot_sha256: not 64 lower-case hex digits: {sha256[:80]!r}")
        return self.dir / sha256[:2] / f"{sha256}.jpg"

    async def put(self, sha256: str, jpeg: bytes) -> Path:
        """Store `jpeg` under its hash (checked); durable once this returns."""
        path = self.path_for(sha256)
        await self._run(lambda: self._write(path, jpeg))
        return path

    async def get(self, sha256: str) -> bytes | None:
        """The snapshot `sha256`, or None when it is not kept (pruned, or never stored)."""
        path = self.path_for(sha256)
        return await self._run(lambda: _read(path))

    async def prune(self) -> int:
        """Delete what retention no longer keeps; how many snapshots went."""
        return await self._run(self._prune)

    async def close(self) -> None:
        await asyncio.get_running_loop().run_in_executor(self._executor, lambda: None)
        self._executor.shutdown(wait=False)

    async def _run(self, work: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, work)

    def _now(self) -> float:
        return self._clock()

    # ------------------------------------------------------------------ on the thread
    def _write(self, path: Path, jpeg: bytes) -> None:
        if snapshot_hash(jpeg) != path.stem:  # hashed here: off the loop
            raise ValueError(f"snapshot_sha256: {path.stem} is not the hash of these bytes")
        try:
            if path.exists():  # the same bytes: refresh its age, keep the file
                os.utime(path, (self._now(), self._now()))
                return
            path.parent.mkdir(parents=True, exist_ok=True)
            _atomic_write(path, jpeg)
        except OSError as error:
            raise SnapshotError(f"snapshot {path}: {error.strerror or error}") from None

    def _prune(self) -> int:
        try:
            files = self._files()
        except OSError as error:
            raise SnapshotError(f"snapshots {self.dir}: {error.strerror or error}") from None
        cutoff = self._now() - self.limits.max_age_s
        files.sort(key=lambda item: item[1])  # oldest first
        total = sum(size for _, _, size in files)
        deleted = 0
        for path, mtime, size in files:
            if mtime >= cutoff and total <= self.limits.max_bytes:
                break
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
            total -= size
            deleted += 1
        return deleted

    def _files(self) -> list[tuple[Path, float, int]]:
        """Every snapshot with its time and size; stale temporary files are removed."""
        found: list[tuple[Path, float, int]] = []
        if not self.dir.is_dir():
            return found
        stale = self._now() - STALE_TMP_S
        for sub in self.dir.iterdir():
            if not (sub.is_dir() and len(sub.name) == 2):
                continue
            for entry in os.scandir(sub):
                info = entry.stat()
                if entry.name.endswith(TMP_SUFFIX):
                    if info.st_mtime < stale:
                        with contextlib.suppress(FileNotFoundError):
                            os.unlink(entry.path)
                elif entry.name.endswith(".jpg"):
                    found.append((Path(entry.path), info.st_mtime, info.st_size))
        return found


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem[:16]}.", suffix=TMP_SUFFIX)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)  # the rename itself durable
    finally:
        os.close(directory)


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
