"""Who owns a device endpoint: `gatectl diag` refuses to talk to a device a running
controller is driving (two masters on one RS-485 bus garble each other's frames, and a
write behind the controller's back would bypass the interlocks).

The lock convention is the controller's own (controller/runtime/locks.py): a controller
holds an exclusive flock per device endpoint in its `lock_dir` (the config's, by default
the maintenance socket's directory) for as long as it lives; the kernel's lock table says
which pid. diag only looks: it never takes or creates a lock file.

Given the config, diag also asks the kernel who listens on its maintenance socket
(SO_PEERCRED of a connection, no request sent): a controller running that config owns
every endpoint of its lanes, lock files or not.
"""

from __future__ import annotations

import os
import socket
import struct
from pathlib import Path

from controller.config.models import GatewayConfig
from controller.runtime.locks import endpoint_owner
from devices.transport.url import MemoryUrl, ModbusTcpUrl, parse_url

DEFAULT_LOCK_DIR = Path("/run/gatebridge")


def endpoint_key(url: str) -> str:
    """The endpoint a device URL names, as the lock convention spells it."""
    parsed = parse_url(url)
    if isinstance(parsed, ModbusTcpUrl):
        return f"tcp:{parsed.host}:{parsed.port}"
    if isinstance(parsed, MemoryUrl):
        return f"memory:{parsed.name}"
    return os.path.realpath(parsed.path)


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


def refusal(
    url: str, config: GatewayConfig | None, lock_dir: Path, *, through: bool = False
) -> str | None:
    """The one line that refuses diag on `url`, or None when no controller owns it;
    `through`: this verb can go through the controller while the lane is in maintenance."""
    endpoint = endpoint_key(url)
    lane = lane_of(config, endpoint)
    pid = endpoint_owner(lock_dir, url)
    if pid is None and config is not None and lane is not None:
        pid = controller_pid(config.socket)
    if pid is None:
        return None
    owned = f"endpoint {endpoint} owned by controller pid {pid or '?'}"
    if not through:
        return (
            f"{owned}; stop it to use this verb, or see its view of the device with "
            "gatectl status / gatectl monitor"
        )
    which = f"lane {lane}" if lane else "its lane (with its --config)"
    return (
        f"{owned}; put {which} in maintenance and diag goes through the controller, "
        "or stop the controller"
    )
