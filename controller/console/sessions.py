"""Console sessions and the sign-in lockout, held in the console's memory.

A session id is 32 random bytes (the cookie holds only that); the person, their role and
the session's CSRF token live here. A session ends `session_minutes` after its last
request, at sign-out, or when the console restarts. Five failed sign-ins for a name lock
that name for five minutes, whoever tries it; a success clears its count.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field

MAX_FAILURES = 5
LOCKOUT_S = 300.0
MAX_COUNTED = 10_000  # names with failures counted: a flood of made-up names stays bounded


@dataclass(slots=True)
class Session:
    sid: str
    user: str
    role: str
    csrf: str
    expires_at: float
    flash: list[tuple[str, str]] = field(default_factory=list)  # (ok|refused, text)

    def csrf_ok(self, token: str) -> bool:
        return hmac.compare_digest(self.csrf.encode(), token.encode())


class Sessions:
    def __init__(self, minutes: float, clock: Callable[[], float]) -> None:
        self.ttl_s, self.clock = minutes * 60.0, clock
        self._open: dict[str, Session] = {}

    def start(self, user: str, role: str) -> Session:
        self._drop_expired()
        sid, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        session = Session(sid, user, role, csrf, self.clock() + self.ttl_s)
        self._open[sid] = session
        return session

    def find(self, sid: str | None, *, touch: bool = True) -> Session | None:
        session = self._open.get(sid or "")
        if session is None:
            return None
        if self.clock() >= session.expires_at:
            del self._open[session.sid]
            return None
        if touch:
            session.expires_at = self.clock() + self.ttl_s
        return session

    def end(self, sid: str | None) -> None:
        self._open.pop(sid or "", None)

    def _drop_expired(self) -> None:
        now = self.clock()
        for sid in [s for s, session in self._open.items() if now >= session.expires_at]:
            del self._open[sid]


class Lockout:
    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self._failures: dict[str, int] = {}
        self._until: dict[str, float] = {}

    def locked_for(self, user: str) -> float:
        """Seconds left of the name's lockout (0: not locked)."""
        left = self._until.get(user, 0.0) - self.clock()
        if left <= 0:
            self._until.pop(user, None)
            return 0.0
        return left

    def failed(self, user: str) -> None:
        if len(self._failures) >= MAX_COUNTED:
            self._failures.clear()  # counts only; the locks already set stay
        count = self._failures.get(user, 0) + 1
        if count >= MAX_FAILURES:
            self._until[user], count = self.clock() + LOCKOUT_S, 0
        self._failures[user] = count

    def succeeded(self, user: str) -> None:
        self._failures.pop(user, None)
