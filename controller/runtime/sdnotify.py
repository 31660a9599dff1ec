"""The sd_notify protocol, with the standard library only (docs/decisions/0006).

A notification is one datagram of `KEY=value` lines to the unix socket named by
$NOTIFY_SOCKET; a name starting with `@` is in the abstract namespace (a leading NUL on
the wire). Without $NOTIFY_SOCKET (not started by systemd) every send is a no-op, so the
controller runs the same from a terminal. The watchdog interval is half of
$WATCHDOG_USEC, as sd_watchdog_enabled(3) advises, and applies only to the process named
by $WATCHDOG_PID when that is set (a child that inherited the variables stays quiet).
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
from collections.abc import Mapping

log = logging.getLogger(__name__)


def socket_address(name: str) -> str | bytes:
    """The address to send to: a path, or an abstract name as bytes with its NUL."""
    if name.startswith("@"):
        return b"\0" + name[1:].encode()
    return name


class Notifier:
    """Sends notifications to the service manager; quiet when there is none."""

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        env = os.environ if env is None else env
        name = env.get("NOTIFY_SOCKET", "")
        self.address = socket_address(name) if name else None
        self.watchdog_s = watchdog_interval(env)
        self._socket: socket.socket | None = None

    @property
    def enabled(self) -> bool:
        return self.address is not None

    def send(self, **fields: str | int) -> bool:
        """Send one notification (`send(READY=1, STATUS="...")`); True when it went out."""
        if self.address is None:
            return False
        message = "\n".join(f"{key}={value}" for key, value in fields.items())
        try:
            if self._socket is None:
                # non-blocking: a full queue drops a ping rather than block the event loop
                kind = socket.SOCK_DGRAM | socket.SOCK_CLOEXEC | socket.SOCK_NONBLOCK
                self._socket = socket.socket(socket.AF_UNIX, kind)
            self._socket.sendto(message.encode(), self.address)
        except OSError as error:
            # the manager went away or never listened: the controller keeps running
            log.warning("sd_notify to %r failed: %s", self.address, error)
            return False
        return True

    def close(self) -> None:
        if self._socket is not None:
            with contextlib.suppress(OSError):
                self._socket.close()
            self._socket = None


def watchdog_interval(env: Mapping[str, str]) -> float | None:
    """Seconds between WATCHDOG=1 pings (half the manager's timeout), or None."""
    usec = env.get("WATCHDOG_USEC", "")
    pid = env.get("WATCHDOG_PID", "")
    if not usec.isdigit() or int(usec) == 0:
        return None
    if pid and (not pid.isdigit() or int(pid) != os.getpid()):
        return None
    return int(usec) / 2 / 1_000_000
