"""Exclusive ownership of a gateway and of its device endpoints, across processes.

Theory of operation: every owner holds an exclusive `fcntl.flock` on a small lock file
in the lock directory (`lock_dir` in the config; by default the maintenance socket's
directory, /run/gatebridge under the systemd unit) for as long as it lives. The kernel
drops the lock when the process dies, however it dies, so a crashed controller never
blocks its restart and there is no stale-lock cleanup to get wrong. One lock per gateway
(`gateway-<name>.lock`) and one per device endpoint: a Modbus TCP `host:port`, or a
serial port (RS-485 bus or serial line: a port is a port, whatever speaks on it), locked
both under its configured path and under the path it resolves to, so two names of one
device (`/dev/serial/by-id/...` and `/dev/ttyUSB0`) still exclude each other.

The holder's pid is read from the kernel's lock table (/proc/locks), which is exact and
race-free; the holder also writes its pid and what it owns into the file, for people and
for where the table does not list the file (overlay file systems): there a lock is
probed by taking it for a moment, shared.

For other tools (`gatectl diag`) that must not talk to a device a controller drives:

    pid = endpoint_owner(lock_dir, "modbus-tcp://10.0.1.21:502")   # None: nobody
    held = acquire_endpoint(lock_dir, url, "gatectl diag")  # LockHeld if owned
    ...
    held.release()                                           # or let the process end

`acquire_*` raise `LockHeld` (an `AlreadyOwned`, a `GateError`) whose message is the one
line to show: "gateway gw-01 already run by pid 1234 (lock /run/gatebridge/gateway-gw-01.lock)".
In-memory endpoints (`memory://`) belong to one process and have no lock.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from controller.errors import AlreadyOwned, ConfigError
from devices.transport.url import ModbusRtuUrl, ModbusTcpUrl, SerialUrl, parse_url

PROC_LOCKS = Path("/proc/locks")
LOCK_MODE = 0o644
_UNSAFE = re.compile(r"[^A-Za-z0-9.-]+")


class LockHeld(AlreadyOwned):
    """Someone else owns it: `pid` (None or 0 when unknown), `path` the lock."""

    def __init__(self, what: str, verb: str, pid: int | None, path: Path) -> None:
        who = f"pid {pid}" if pid else "an unknown pid"
        super().__init__(f"{what} already {verb} by {who} (lock {path})")
        self.pid, self.path = pid, path


@dataclass(slots=True)
class HeldLock:
    path: Path
    fd: int

    def release(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)  # closing the only descriptor drops the flock
            self.fd = -1


@dataclass(slots=True)
class HeldLocks:
    locks: list[HeldLock] = field(default_factory=list)

    def release(self) -> None:
        for lock in reversed(self.locks):
            lock.release()
        self.locks.clear()


def endpoint_keys(url: str) -> list[str]:
    """The names a device endpoint is locked under; none for in-memory endpoints."""
    parsed = parse_url(url)
    if isinstance(parsed, ModbusTcpUrl):
        return [f"tcp-{parsed.host.lower()}-{parsed.port}"]
    if isinstance(parsed, ModbusRtuUrl | SerialUrl):
        names = [parsed.path, os.path.realpath(parsed.path)]
        return [f"port{_UNSAFE.sub('_', name)}" for name in dict.fromkeys(names)]
    return []


def lock_file(lock_dir: Path, key: str) -> Path:
    return lock_dir / f"{key}.lock"


def owner(path: Path) -> int | None:
    """The pid holding `path`'s lock (0: held, the pid unknown), or None when it is free."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    pid = _kernel_owner(f"{os.major(st.st_dev):02x}:{os.minor(st.st_dev):02x}:{st.st_ino}")
    return pid if pid is not None else _probe(path)


def _kernel_owner(device_inode: str) -> int | None:
    """The holder from /proc/locks; None when it lists no such lock (or is missing, or
    names the file by another device, as overlay file systems do)."""
    try:
        table = PROC_LOCKS.read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    for line in table.splitlines():
        fields = line.split()
        # "1: FLOCK  ADVISORY  WRITE 1234 fe:00:2146485 0 EOF"; waiters carry "->"
        if len(fields) >= 6 and fields[1] == "FLOCK" and fields[5] == device_inode:
            return int(fields[4]) if fields[4].isdigit() else 0
    return None


def endpoint_owner(lock_dir: Path, endpoint: str) -> int | None:
    """The pid that drives `endpoint` (a device URL as the config writes it), or None."""
    for key in endpoint_keys(endpoint):
        pid = owner(lock_file(lock_dir, key))
        if pid is not None:
            return pid
    return None


def acquire(lock_dir: Path, key: str, what: str, verb: str, holder: str) -> HeldLock:
    """Take `key`'s lock for this process's lifetime, or raise LockHeld."""
    path = lock_file(lock_dir, key)
    try:
        lock_dir.mkdir(parents=True, exist_ok=True)
        fd = _open(path)
    except OSError as error:
        raise ConfigError("lock_dir", f"{path}: {error.strerror or error}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise LockHeld(what, verb, owner(path), path) from None
    with contextlib.suppress(OSError):  # the note for people; the lock is what counts
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n{holder}\n".encode())
    return HeldLock(path, fd)


def _open(path: Path) -> int:
    """Read-write to note our pid; a lock file another user made (a technician's tool
    after the service, or the reverse) is locked read-only: flock does not need write."""
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, LOCK_MODE)
    except PermissionError:
        return os.open(path, os.O_RDONLY | os.O_CLOEXEC)


def acquire_gateway(lock_dir: Path, gateway: str) -> HeldLock:
    name = f"gateway {gateway}"
    return acquire(lock_dir, f"gateway-{gateway}", name, "run", name)


def acquire_endpoint(lock_dir: Path, endpoint: str, holder: str) -> HeldLocks:
    """Every lock of `endpoint`, all or none (LockHeld names the first one taken)."""
    return acquire_endpoints(lock_dir, [(endpoint, endpoint)], holder)


def acquire_endpoints(
    lock_dir: Path, endpoints: Iterable[tuple[str, str]], holder: str
) -> HeldLocks:
    """Lock each (url, config field) endpoint once, all or none."""
    held = HeldLocks()
    with _released_on_error(held):
        done: set[str] = set()
        for url, where in endpoints:
            for key in endpoint_keys(url):
                if key not in done:
                    done.add(key)
                    what = f"endpoint {url} ({where})" if where != url else f"endpoint {url}"
                    held.locks.append(acquire(lock_dir, key, what, "driven", holder))
    return held


@contextlib.contextmanager
def _released_on_error(held: HeldLocks) -> Iterator[None]:
    try:
        yield
    except BaseException:
        held.release()
        raise


def _probe(path: Path) -> int | None:
    """Where the kernel's table does not say: try the lock for a moment (shared, so two
    probes do not collide); held -> the pid the holder wrote, 0 if it wrote none yet."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return _pid_in(path) or 0
    finally:
        os.close(fd)
    return None


def _pid_in(path: Path) -> int | None:
    with contextlib.suppress(OSError, ValueError, IndexError):
        return int(path.read_text(encoding="ascii").split()[0])
    return None
