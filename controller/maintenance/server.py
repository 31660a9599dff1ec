"""The maintenance socket server: who is calling, may they, and what the lane said.

Theory of operation: a unix socket (mode 0660, group = the viewer group) takes JSON-line
requests. The caller is identified by SO_PEERCRED (pid, uid, gid) and given the highest
role whose unix group they belong to (root counts as officer). Viewers read; technicians
operate devices and modes except emergency; officers release, reject, identify, confirm or
refuse the vehicle at the approach, reset and declare emergency. Every operating command,
accepted or refused, is written to the hash-chained audit log with its time and outcome
(accepted, refused with the reason, or no-op); the line is fsync'd once the core has
decided and before the server yields to the event loop, so before any device or journal
I/O the command causes. A request that is itself wrong (a bad field, an unknown lane) is a
usage error, answered with kind `usage` and not audited: nothing was commanded. The lane
core checks roles again and its interlocks decide (S11). A peer in the console group may
name the person it acts for (`on_behalf`, delegation.py); anyone else naming someone is
refused.

The socket is never taken from a live owner: before binding, an existing socket file is
probed by connecting to it; only a stale one (connection refused: nobody listens) is
removed, anything else refuses the start (`SocketInUse`). On exit the server removes the
socket file only if it is still the one it bound (same inode), never a successor's.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import grp
import os
import pwd
import socket
import stat
import struct
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from controller.core.types import OperatorAction, Role, Side
from controller.errors import AlreadyOwned
from controller.maintenance.audit import AuditLog, verify
from controller.maintenance.delegation import delegated
from controller.maintenance.diag_answer import answer_diag
from controller.maintenance.protocol import (
    AckRequest,
    ApproachRequest,
    AuditRequest,
    BarrierRequest,
    DiagRequest,
    EventsRequest,
    HoldRequest,
    IdentifyRequest,
    LightRequest,
    ModeRequest,
    Request,
    ResetRequest,
    Response,
    SnapshotRequest,
    StatusRequest,
    parse_request,
)

ROLE_ORDER = (Role.VIEWER, Role.TECHNICIAN, Role.OFFICER)
MAX_LINE = 64 * 1024


class SocketInUse(AlreadyOwned):
    """The maintenance socket's path is served by a live process (or is not a socket)."""


@dataclass(frozen=True, slots=True)
class Caller:
    pid: int
    uid: int
    user: str
    role: Role | None
    groups: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Operation:
    lane: str
    action: OperatorAction
    side: Side | None = None
    tag: str | None = None
    reason: str = ""
    # ack: {"alarm": code}; confirm/refuse: {"request_id": the approach vehicle's}, optional
    args: Mapping[str, str] = field(default_factory=dict)


class GatewayControl(Protocol):
    def status(self) -> dict[str, object]: ...
    def recent_events(self, last: int) -> list[dict[str, object]]: ...
    def follow_events(self) -> AsyncIterator[dict[str, object]]: ...
    def operate(self, op: Operation, caller: Caller) -> dict[str, object]: ...
    async def snapshot_jpeg(self, sha256: str) -> bytes | None: ...


def caller_of(sock: socket.socket, roles: Mapping[Role, str]) -> Caller:
    creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    pid, uid, gid = struct.unpack("3i", creds)
    try:
        user = pwd.getpwuid(uid).pw_name
        groups = {grp.getgrgid(g).gr_name for g in os.getgrouplist(user, gid)}
    except KeyError:
        user, groups = str(uid), set()
    role = Role.OFFICER if uid == 0 else None
    for candidate in ROLE_ORDER:
        if role is None or ROLE_ORDER.index(candidate) > ROLE_ORDER.index(role):
            role = candidate if roles.get(candidate) in groups else role
    return Caller(pid, uid, user, role, frozenset(groups))


class MaintenanceServer:
    def __init__(
        self,
        path: Path,
        control: GatewayControl,
        audit: AuditLog,
        roles: Mapping[Role, str],
        on_listening: Callable[[], None] | None = None,
        *,
        console_group: str | None = None,
    ) -> None:
        self.path, self.control, self.audit, self.roles = path, control, audit, roles
        self.on_listening = on_listening
        self._server: asyncio.Server | None = None
        self._inode: tuple[int, int] | None = None
        self.console_group = console_group  # peers who may send on_behalf (delegation.py)

    async def start(self) -> asyncio.Server:
        """Claim the socket path and listen (before the lanes start: a refusal must come
        before anything drives a device)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        clear_stale_socket(self.path)
        self._server = await asyncio.start_unix_server(
            self._client, path=str(self.path), limit=MAX_LINE
        )
        self._inode = _inode(self.path)
        os.chmod(self.path, 0o660)
        with contextlib.suppress(KeyError, PermissionError):
            os.chown(self.path, -1, grp.getgrnam(self.roles[Role.VIEWER]).gr_gid)
        if self.on_listening is not None:
            self.on_listening()
        return self._server

    async def serve(self) -> None:
        server = self._server if self._server is not None else await self.start()
        try:
            async with server:
                await server.serve_forever()
        finally:
            if self._inode is not None and _inode(self.path) == self._inode:
                self.path.unlink()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        sock = writer.get_extra_info("socket")
        caller = caller_of(sock, self.roles)
        try:
            while line := await reader.readline():
                parsed = parse_request(line)
                if isinstance(parsed, str):
                    await _send(writer, Response(ok=False, kind="usage", error=parsed))
                elif isinstance(parsed, DiagRequest):  # awaits the lane's device link
                    await _send(writer, await answer_diag(self, parsed, caller))
                elif isinstance(parsed, SnapshotRequest):  # read on the store's thread
                    await _send(writer, await self._snapshot(parsed, caller))
                elif isinstance(parsed, EventsRequest) and parsed.follow:
                    await self._follow(writer, parsed, caller)
                    return
                else:
                    await _send(writer, self.handle(parsed, caller))
        except (ConnectionError, ValueError):
            return  # a client that hangs up or sends an over-long line: nothing to answer
        finally:
            writer.close()

    def acting(self, request: Request, peer: Caller) -> Caller | str:
        """The peer itself, or the console user it acts for (delegation.py)."""
        if request.on_behalf is None:
            return peer
        who = delegated(request, peer.user, peer.groups, self.console_group)
        if isinstance(who, str):
            return who
        return Caller(peer.pid, peer.uid, who[0], who[1], peer.groups)

    def handle(self, request: Request, peer: Caller) -> Response:
        caller = self.acting(request, peer)
        if isinstance(caller, str):
            if not isinstance(request, StatusRequest | EventsRequest | AuditRequest):
                self._record(to_operation(request), peer, f"refused: {caller}")
            return Response(ok=False, error=caller)
        if caller.role is None:
            return Response(
                ok=False, kind="refused", error=f"user {caller.user} has no gatebridge role"
            )
        if isinstance(request, StatusRequest):
            return Response(ok=True, data=self.control.status())
        if isinstance(request, EventsRequest):
            return Response(ok=True, data={"events": self.control.recent_events(request.last)})
        if isinstance(request, AuditRequest):
            return self._audit_view(request)
        operation = to_operation(request)
        if caller.role == Role.VIEWER:
            self._record(operation, caller, "refused: viewers cannot operate")
            return Response(ok=False, kind="refused", error="viewers cannot operate the lane")
        result = self.control.operate(operation, caller)
        refused = str(result.get("refused", ""))
        if result.get("kind") == "usage":
            return Response(ok=False, kind="usage", error=refused)
        self._record(operation, caller, outcome_of(result))
        ok = bool(result.get("accepted"))
        return Response(ok=ok, kind="ok" if ok else "refused", error=refused, data=result)

    async def _snapshot(self, request: SnapshotRequest, peer: Caller) -> Response:
        caller = self.acting(request, peer)
        if isinstance(caller, str) or caller.role is None:
            refused = caller if isinstance(caller, str) else "no gatebridge role"
            return Response(ok=False, kind="refused", error=refused)
        jpeg = await self.control.snapshot_jpeg(request.sha256)
        if jpeg is None:
            error = f"sha256: no snapshot {request.sha256} is kept (pruned, or never stored)"
            return Response(ok=False, kind="refused", error=error)
        data = {"sha256": request.sha256, "jpeg_base64": base64.b64encode(jpeg).decode()}
        return Response(ok=True, data=data)

    def _record(self, op: Operation, caller: Caller, outcome: str) -> None:
        self.audit.append(
            {
                "lane": op.lane,
                "action": op.action.value,
                "side": op.side,
                "tag": op.tag,
                "reason": op.reason,
                "user": caller.user,
                "uid": caller.uid,
                "pid": caller.pid,
                "role": caller.role,
                "outcome": outcome,
                **op.args,
            }
        )

    def _audit_view(self, request: AuditRequest) -> Response:
        data: dict[str, object] = {"entries": self.audit.tail(request.last)}
        if request.verify:
            checked, broken = verify(self.audit.path)
            data.update(checked=checked, broken=broken)
            kind = "ok" if broken is None else "refused"
            return Response(ok=broken is None, kind=kind, error=broken or "", data=data)
        return Response(ok=True, data=data)

    async def _follow(self, writer: asyncio.StreamWriter, req: EventsRequest, c: Caller) -> None:
        acting = self.acting(req, c)
        if isinstance(acting, str) or acting.role is None:
            refused = acting if isinstance(acting, str) else "no gatebridge role"
            await _send(writer, Response(ok=False, kind="refused", error=refused))
            return
        for event in self.control.recent_events(req.last):
            await _send(writer, Response(ok=True, data=event))
        async for event in self.control.follow_events():
            await _send(writer, Response(ok=True, data=event))


def clear_stale_socket(path: Path) -> None:
    """Remove `path` only if it is a socket nobody listens on; refuse otherwise."""
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(mode):
        raise SocketInUse(f"socket: {path} exists and is not a socket; not replaced")
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    probe.settimeout(0.0)  # non-blocking: a full backlog answers EAGAIN, not a wait
    try:
        probe.connect(str(path))
    except ConnectionRefusedError:
        path.unlink(missing_ok=True)  # stale: its owner died without removing it
        return
    except FileNotFoundError:
        return
    except BlockingIOError:
        pass  # a full backlog: very much alive
    except OSError as error:
        raise SocketInUse(f"socket: {path} cannot be probed ({error.strerror})") from None
    finally:
        probe.close()
    raise SocketInUse(f"socket: {path} is served by a live process; not replaced")


def _inode(path: Path) -> tuple[int, int] | None:
    try:
        st = path.lstat()
    except FileNotFoundError:
        return None
    return st.st_dev, st.st_ino


def outcome_of(result: Mapping[str, object]) -> str:
    """The audit's outcome of what the lane answered: accepted, no-op: why, refused: why."""
    if not result.get("accepted"):
        return f"refused: {result.get('refused') or 'no reason given'}"
    return f"no-op: {result['noop']}" if result.get("noop") else "accepted"


def to_operation(request: Request) -> Operation:
    a = OperatorAction
    if isinstance(request, ModeRequest):
        return Operation(request.lane, a("mode_" + request.mode), reason=request.reason)
    if isinstance(request, BarrierRequest):
        return Operation(request.lane, a("barrier_" + request.action), Side(request.side))
    if isinstance(request, LightRequest):
        return Operation(request.lane, a("light_" + request.aspect), Side(request.side))
    if isinstance(request, HoldRequest):
        return Operation(request.lane, a(request.action), reason=request.reason)
    if isinstance(request, IdentifyRequest):
        return Operation(request.lane, a.IDENTIFY, tag=request.tag.upper(), reason=request.reason)
    if isinstance(request, ApproachRequest):
        return approach_operation(request)
    if isinstance(request, ResetRequest):
        return Operation(request.lane, a.RESET, reason=request.reason)
    if isinstance(request, AckRequest):
        return Operation(request.lane, a.ACK, reason=request.reason, args={"alarm": request.alarm})
    raise TypeError(f"not an operation: {request!r}")


def approach_operation(request: ApproachRequest) -> Operation:
    """confirm/refuse the approach vehicle; the request_id it names rides in `args`, so the
    audit line says which vehicle the officer checked and the gateway refuses another."""
    args = {} if request.request_id is None else {"request_id": request.request_id}
    return Operation(request.lane, OperatorAction(request.action), reason=request.reason, args=args)


async def _send(writer: asyncio.StreamWriter, response: Response) -> None:
    writer.write(response.model_dump_json().encode() + b"\n")
    await writer.drain()
