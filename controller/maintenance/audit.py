"""The append-only, hash-chained audit log of maintenance commands.

Every command, accepted or refused, is one JSON line carrying the SHA-256 of the previous
line, so removing or editing a line breaks the chain from there on; `verify` finds the
first broken line. Lines are written with O_APPEND and fsync'd before the command acts.
Each line carries `ts`, the UTC time of the write from the injected wall clock. Appends
come from the event loop (the maintenance socket) and from worker threads (the reception
of signed messages): a lock keeps each line chained to the one written before it.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from controller.journal.codec import rfc3339

GENESIS = "0" * 64


class AuditLog:
    def __init__(self, path: Path, wall_clock: Callable[[], float] = time.time) -> None:
        self.path = path
        self.wall_clock = wall_clock
        path.parent.mkdir(parents=True, exist_ok=True)
        self._last = _last_hash(path)
        self._lock = threading.Lock()

    def append(self, entry: Mapping[str, object]) -> str:
        with self._lock:
            body = {"ts": rfc3339(self.wall_clock()), **entry, "prev": self._last}
            line = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
            try:
                os.write(fd, (line + "\n").encode())
                os.fsync(fd)
            finally:
                os.close(fd)
            self._last = hashlib.sha256(line.encode()).hexdigest()
            return self._last

    def tail(self, count: int) -> list[dict[str, object]]:
        if not self.path.exists():
            return []
        lines = self.path.read_text(encoding="utf-8").splitlines()[-count:] if count else []
        return [json.loads(line) for line in lines]


def verify(path: Path) -> tuple[int, str | None]:
    """(lines checked, None) when the chain holds, else (line number, what broke)."""
    previous, count = GENESIS, 0
    if not path.exists():
        return 0, None
    for count, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        try:
            prev = json.loads(line).get("prev")
        except json.JSONDecodeError:
            return count, "not JSON"
        if prev != previous:
            return count, "chain broken: prev does not match the line before"
        previous = hashlib.sha256(line.encode()).hexdigest()
    return count, None


def _last_hash(path: Path) -> str:
    if not path.exists() or path.stat().st_size == 0:
        return GENESIS
    last = path.read_text(encoding="utf-8").splitlines()[-1]
    return hashlib.sha256(last.encode()).hexdigest()
