"""Acting on behalf of a console user: the console is one unix peer for many people.

The web console runs as its own unix user in the console group (config `roles.console`)
and signs its people in itself. The socket believes a request's `on_behalf` only from a
peer in that group: the request is then the named person's, with the role the console
vouches for, capped at officer, and audited as "USER via console" under the console's
uid and pid. An operating command through the console always carries the person's
reason. Any other peer naming someone in `on_behalf` is refused: a user cannot borrow
another's name, or a higher role, by writing it into a request.
"""

from __future__ import annotations

from collections.abc import Set

from controller.core.types import Role
from controller.maintenance.protocol import (
    AuditRequest,
    EventsRequest,
    OnBehalf,
    Request,
    SnapshotRequest,
    StatusRequest,
)

ROLE_ORDER = (Role.VIEWER, Role.TECHNICIAN, Role.OFFICER)
CONSOLE_CAP = Role.OFFICER  # the most the console may grant: never more than an officer
MIN_REASON = 3
READS = (StatusRequest, EventsRequest, AuditRequest, SnapshotRequest)


def delegated(
    request: Request, peer: str, groups: Set[str], console_group: str | None
) -> tuple[str, Role] | str:
    """(user, role) the request acts as, or the one-line reason it is refused."""
    on_behalf: OnBehalf | None = request.on_behalf
    if on_behalf is None:
        raise ValueError("not a delegated request")
    if console_group is None or console_group not in groups:
        return (
            f"on_behalf: refused: {peer} is not in the console group {console_group!r}; "
            "only the console acts on behalf of others"
        )
    if not isinstance(request, READS) and len(getattr(request, "reason", "").strip()) < MIN_REASON:
        return f"{request.op}.reason: an action through the console needs a reason (3+ characters)"
    return f"{on_behalf.user} via console", capped(Role(on_behalf.role))


def capped(role: Role) -> Role:
    return min(role, CONSOLE_CAP, key=ROLE_ORDER.index)
