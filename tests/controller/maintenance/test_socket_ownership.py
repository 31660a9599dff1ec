"""The maintenance socket is never taken from a live owner, and a server removes only the
socket it bound (issue 17 item 3). Real unix sockets, real time, waits with timeouts."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from controller.core.types import Role
from controller.maintenance.audit import AuditLog
from controller.maintenance.server import (
    Caller,
    MaintenanceServer,
    Operation,
    SocketInUse,
    clear_stale_socket,
)


class Idle:
    def status(self) -> dict[str, object]:
        return {"lanes": []}

    def recent_events(self, last: int) -> list[dict[str, object]]:
        return []

    async def follow_events(self) -> AsyncIterator[dict[str, object]]:
        await asyncio.Event().wait()
        yield {}

    async def snapshot_jpeg(self, sha256: str) -> bytes | None:
        return None

    def operate(self, op: Operation, caller: Caller) -> dict[str, object]:
        return {"accepted": False}


def server(path: Path, tmp: Path, ready: asyncio.Event | None = None) -> MaintenanceServer:
    roles = {Role.VIEWER: "nobody"}
    on_listening = None if ready is None else ready.set
    return MaintenanceServer(path, Idle(), AuditLog(tmp / "audit.log"), roles, on_listening)


async def serving(path: Path, tmp: Path) -> asyncio.Task[None]:
    ready = asyncio.Event()
    task = asyncio.create_task(server(path, tmp, ready).serve())
    async with asyncio.timeout(5):
        await ready.wait()
    return task


def listening(path: Path) -> socket.socket:
    live = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    live.bind(str(path))
    live.listen()
    return live


async def test_a_live_socket_is_refused_and_left_in_place(tmp_path: Path) -> None:
    path = tmp_path / "gatectl.sock"
    with listening(path):
        with pytest.raises(SocketInUse, match="served by a live process"):
            await server(path, tmp_path).start()
        assert path.is_socket()
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        probe.connect(str(path))  # the owner still answers on its own socket
        probe.close()


def test_only_a_stale_socket_file_is_removed(tmp_path: Path) -> None:
    stale = tmp_path / "stale.sock"
    listening(stale).close()  # its owner died: the file stays, nobody listens
    clear_stale_socket(stale)
    assert not stale.exists()
    regular = tmp_path / "not-a-socket"
    regular.write_text("keep me")
    with pytest.raises(SocketInUse, match="is not a socket"):
        clear_stale_socket(regular)
    assert regular.read_text() == "keep me"


async def test_a_server_removes_its_own_socket_and_never_a_successors(tmp_path: Path) -> None:
    path = tmp_path / "gatectl.sock"
    first = await serving(path, tmp_path)
    path.unlink()
    with listening(path):  # someone else owns the path now
        first.cancel()
        with pytest.raises(asyncio.CancelledError):
            await first
        assert path.is_socket()
    path.unlink()
    own = await serving(path, tmp_path)
    assert path.is_socket()
    own.cancel()
    with pytest.raises(asyncio.CancelledError):
        await own
    assert not path.exists()
