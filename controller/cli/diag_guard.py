"""Who owns a device endpoint: `gatectl diag` refuses to talk to a device a running
controller is driving (two masters on one RS-485 bus garble each other's frames, and a
write behind the controller's back would bypass the interlocks).

The lock convention (one for the controller and diag; the controller's side lives with
the runtime's endpoint locks):
- the endpoint is named by `endpoint_key`: `tcp:HOST:PORT` for Modbus TCP, and the real
  path of the port for a serial line or an RS-485 bus (`/dev/ttyUSB0`; a bus is its
  port, DESIGN 5.5, whatever protocol runs on it);
- its lock file is `<lock_dir>/endpoint-<sanitized key>.lock`, the key with every
  character outside `A-Za-z0-9._-` replaced by `_` and the leading ones stripped, e.g.
  `endpoint-dev_ttyUSB0.lock`, `endpoint-tcp_10.0.1.21_502.lock`;
- `lock_dir` is the directory of the config's maintenance socket (`/run/gatebridge`);
- the owner holds `flock(LOCK_EX)` on it for as long as it drives the endpoint and
  writes its pid (decimal, newline) into it; the file is world-readable (0644), since a
  lock file diag cannot open counts as held.
A lock file nobody holds is stale and means nothing; diag never creates one.

Given the config, diag also asks the kernel who listens on its maintenance socket
(SO_PEERCRED of a connection, no request sent): a controller running that config owns
every endpoint of its lanes, lock files or not.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import socket
import struct
from pathlib import Path

from controller.config.models import GatewayConfig
from devices.transport.url import MemoryUrl, ModbusTcpUrl, parse_url

DEFAULT_LOCK_DIR = Path("/run/gatebridge")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def endpoint_key(url: str) -> str:
    """The endpoint a device URL names, as the lock convention spells it."""
    parsed = parse_url(url)
    if isinstance(parsed, ModbusTcpUrl):
        return f"tcp:{parsed.host}:{parsed.port}"
    if isinstance(parsed, MemoryUrl):
        return f"memory:{parsed.name}"
    return os.path.realpath(parsed.path)


def lock_path(lock_dir: Path, endpoint: str) -> Path:
    return lock_dir / f"endpoint-{_UNSAFE.sub('_', endpoint).lstrip('_.')}.lock"


def endpoint_owner(endpoint: str, lock_dir: Path = DEFAULT_LOCK_DIR) -> int | None:
    """The pid holding `endpoint`'s lock (0 when it cannot be told), or None when free. A
    lock file diag may not open counts as held: when in doubt, keep off the line."""
    try:
        # O_NONBLOCK: a FIFO planted at the path must not hang diag in open()
        fd = os.open(lock_path(lock_dir, endpoint), os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK)
    except FileNotFoundError:
        return None
    except OSError:
        return 0
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _pid(fd)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def _pid(fd: int) -> int:
    with contextlib.suppress(OSError, ValueError):
        return int(os.pread(fd, 32, 0).split()[0])
    return 0


def lane_of(config: GatewayConfig | None, endpoint: str) -> str | None:
    """The lane whose devices use `endpoint`, when the config is known."""
    for lane in config.lanes if config is not None else []:
        urls = (lane.io.url, lane.entry_barrier.url, lane.exit_barrier.url)
        if endpoint in {endpoint_key(url) for url in (*urls, lane.scale.url, lane.rfid.url)}:
            return lane.id
    return None


def controller_pid(socket_path: Path) -> int | None:
    """The pid of the process listening on the maintenance socket, or None."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(1.0)
        try:
            probe.connect(str(socket_path))
        except OSError:
            return None
        creds = probe.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    pid, _uid, _gid = struct.unpack("3i", creds)
    return int(pid)


def refusal(url: str, config: GatewayConfig | None, lock_dir: Path) -> str | None:
    """The one line that refuses diag on `url`, or None when no controller owns it."""
    endpoint = endpoint_key(url)
    lane = lane_of(config, endpoint)
    pid = endpoint_owner(endpoint, lock_dir)
    if pid is None and config is not None and lane is not None:
        pid = controller_pid(config.socket)
    if pid is None:
        return None
    return (
        f"endpoint {endpoint} owned by controller pid {pid or '?'}; put "
        f"{f'lane {lane}' if lane else 'its lane'} in maintenance and stop it, "
        "or use gatectl barrier/light"
    )
