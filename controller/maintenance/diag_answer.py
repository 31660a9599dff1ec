"""The socket's `diag` request: who may ask, what the audit records, the answer's kind.

Technicians and officers only (a read through the controller still drives the lane's
link). Every diag request that reaches a lane is audited like an operator command: a
read as `diag_read`; a write as the command it was mapped to (`barrier_close`, ...,
with the register in `diag`) or as a refused `diag_write`. The lane's answer decides
the kind: ok, refused (not in maintenance, an interlock veto, a register the interlock
cannot judge), device (the device failed the read), usage (no such lane).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

from controller.core.types import Role
from controller.maintenance.protocol import DiagRequest, Response

if TYPE_CHECKING:
    from controller.maintenance.server import Caller, MaintenanceServer

MAY_DIAG = (Role.TECHNICIAN, Role.OFFICER)


@runtime_checkable
class DiagControl(Protocol):
    async def diag(self, request: DiagRequest, caller: Caller) -> dict[str, object]: ...


async def answer_diag(server: MaintenanceServer, request: DiagRequest, peer: Caller) -> Response:
    caller = server.acting(request, peer)
    if isinstance(caller, str):
        return Response(ok=False, kind="refused", error=caller)
    action = "diag_read" if request.values is None else "diag_write"
    if caller.role not in MAY_DIAG:
        refused = "diag through the controller needs a technician or an officer"
        record(server, request, caller, {"action": action}, f"refused: {refused}")
        return Response(ok=False, kind="refused", error=refused)
    control = server.control
    if not isinstance(control, DiagControl):
        return Response(ok=False, kind="refused", error="this controller does not pass diag on")
    result = await control.diag(request, caller)
    refused = str(result.get("refused", ""))
    if result.get("kind") == "usage":
        return Response(ok=False, kind="usage", error=refused)
    record(server, request, caller, result, outcome(result))
    if result.get("accepted"):
        return Response(ok=True, data=result)
    kind = "device" if result.get("kind") == "device" else "refused"
    return Response(ok=False, kind=kind, error=refused, data=result)


def outcome(result: dict[str, object]) -> str:
    if result.get("accepted"):
        return f"no-op: {result['noop']}" if result.get("noop") else "accepted"
    what = "device error" if result.get("kind") == "device" else "refused"
    return f"{what}: {result.get('refused') or 'no reason given'}"


def record(
    server: MaintenanceServer,
    request: DiagRequest,
    caller: Caller,
    result: dict[str, object],
    outcome: str,
) -> None:
    register = f"{request.device} {request.table} {request.address}"
    if request.values is None:
        register += f"+{request.count}"
    else:
        register += "=" + ",".join(map(str, request.values))
    server.audit.append(
        {
            "lane": request.lane,
            "action": result.get("action", "diag"),
            "side": result.get("side"),
            "tag": None,
            "reason": "",
            "user": caller.user,
            "uid": caller.uid,
            "pid": caller.pid,
            "role": caller.role,
            "outcome": outcome,
            "diag": str(result.get("diag") or register),
        }
    )
