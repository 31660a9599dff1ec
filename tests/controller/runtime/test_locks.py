"""The gateway and endpoint locks (runtime/locks.py) across real processes: the holder's
pid is named, the kernel releases a killed holder's lock, and the API other tools use."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml

from controller.config.load import load_config, validate
from controller.errors import ConfigError
from controller.runtime import locks
from controller.runtime.locks import (
    LockHeld,
    acquire_endpoint,
    acquire_gateway,
    endpoint_owner,
    owner,
)

HOLD = """
import sys
from pathlib import Path
from controller.runtime.locks import acquire_endpoint
held = acquire_endpoint(Path(sys.argv[1]), sys.argv[2], "test holder")
print("held", flush=True)
sys.stdin.read()  # hold until the test closes stdin or kills us
"""


@contextmanager
def holder(lock_dir: Path, endpoint: str) -> Iterator[subprocess.Popen[str]]:
    proc = subprocess.Popen(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", HOLD, str(lock_dir), endpoint],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline() == "held\n"
        yield proc
    finally:
        proc.kill()
        proc.wait(timeout=10)


def test_an_endpoint_held_by_another_process_names_its_pid(tmp_path: Path) -> None:
    url = "modbus-tcp://127.0.0.1:15020"
    assert endpoint_owner(tmp_path, url) is None
    with holder(tmp_path, url) as proc:
        assert endpoint_owner(tmp_path, url) == proc.pid
        with pytest.raises(LockHeld) as refused:
            acquire_endpoint(tmp_path, url, "a second controller")
        assert str(refused.value) == (
            f"endpoint {url} already driven by pid {proc.pid} "
            f"(lock {tmp_path / 'tcp-127.0.0.1-15020.lock'})"
        )
        assert refused.value.pid == proc.pid


def test_a_killed_holder_never_blocks_the_next_one(tmp_path: Path) -> None:
    url = "serial:///dev/ttyS1?baud=9600"
    with holder(tmp_path, url) as proc:
        proc.kill()  # kill -9: no clean-up ran, the lock file stays
        proc.wait(timeout=10)
        assert endpoint_owner(tmp_path, url) is None
        held = acquire_endpoint(tmp_path, url, "the restarted controller")
    assert all(owner(lock.path) is not None for lock in held.locks)
    held.release()
    assert endpoint_owner(tmp_path, url) is None


def test_two_names_of_one_serial_port_exclude_each_other(tmp_path: Path) -> None:
    port = tmp_path / "ttyUSB0"
    port.touch()
    alias = tmp_path / "by-id-usb-FTDI"
    alias.symlink_to(port)
    with holder(tmp_path, f"serial://{port}"):
        with pytest.raises(LockHeld):
            acquire_endpoint(tmp_path, f"modbus-rtu://{alias}?baud=38400", "a bus on its alias")
        assert endpoint_owner(tmp_path, f"serial://{alias}") is not None


def test_the_gateway_lock_is_one_per_process_lifetime(tmp_path: Path) -> None:
    held = acquire_gateway(tmp_path, "gw-01")
    with pytest.raises(LockHeld, match=r"^gateway gw-01 already run by pid \d+ \(lock "):
        acquire_gateway(tmp_path, "gw-01")  # a second open file: flock excludes it too
    assert acquire_endpoint(tmp_path, "memory://io", "in-process").locks == []
    held.release()
    acquire_gateway(tmp_path, "gw-01").release()


def test_the_lock_dir_defaults_beside_the_socket_and_is_validated(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[3]
    document = yaml.safe_load((root / "deploy/examples/emulated-lane.yaml").read_text())
    document["clearance"]["manifest"] = str(root / "deploy/examples/manifest.yaml")
    assert validate(document).locks == Path("/tmp/gatebridge")  # the socket's directory
    (tmp_path / "gw.yaml").write_text(yaml.safe_dump({**document, "lock_dir": "locks"}))
    assert load_config(tmp_path / "gw.yaml").locks == tmp_path / "locks"  # beside the config
    with pytest.raises(ConfigError, match=r"^config: lock_dir: /tmp/gatebridge/gatectl.sock is"):
        validate({**document, "lock_dir": document["socket"]})


def test_without_the_kernel_table_the_owner_is_probed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where /proc/locks does not list the file (overlay file systems, no procfs), the
    lock is probed and the pid read from the file its holder wrote."""
    monkeypatch.setattr(locks, "PROC_LOCKS", tmp_path / "no-such-table")
    url = "modbus-tcp://127.0.0.1:15021"
    with holder(tmp_path, url) as proc:
        assert endpoint_owner(tmp_path, url) == proc.pid
    assert endpoint_owner(tmp_path, url) is None
