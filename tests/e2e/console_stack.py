"""The production stack for the console's browser test: `gatectl emulate`, `gatectl run`
and `gatectl console` as processes, in real time, each stopped by its pid; and the
emulator's control channel (spawn a truck, read the barriers)."""

from __future__ import annotations

import json
import os
import queue
import signal
import socket
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import yaml
from argon2 import PasswordHasher

from controller.console.users import add_user
from tests.e2e.test_emulate_and_run import GATECTL, ROOT, free_port, lane_config

PASSWORD = "a long test password"  # noqa: S105 - the test accounts' password
PEOPLE = {"alice": "officer", "victor": "viewer"}
FAST = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
# the world's first truck: cleared, but declared far lighter than it weighs; the second:
# referred for inspection; the third (its tag dead, identified by an officer): cleared
FIRST_TAG, SECOND_TAG = "E28011000000000000000001", "E28011000000000000000002"
THIRD_TAG = "E28011000000000000000003"


def short_sessions_config(config: Path) -> tuple[Path, str]:
    """The same gateway with its console on another port, sessions of 6 s; its URL."""
    document = yaml.safe_load(config.read_text())
    listen = f"127.0.0.1:{free_port()}"
    document["console"] = {**document["console"], "listen": listen, "session_minutes": 0.1}
    path = config.with_name("short-sessions.yaml")
    path.write_text(yaml.safe_dump(document))
    return path, f"http://{listen}"


def stack_config(tmp: Path) -> tuple[Path, str]:
    """The emulated lane's config with a console on a free port; the console's URL."""
    path = lane_config(tmp, free_port())
    document = yaml.safe_load(path.read_text())
    manifest = tmp / "manifest.yaml"
    manifest.write_text(
        f"{FIRST_TAG}: {{decision: grant, declared_gross_kg: 1000}}\n"
        f"{SECOND_TAG}: {{decision: inspect}}\n"
        f"{THIRD_TAG}: {{decision: grant}}\n"
    )
    document["clearance"]["manifest"] = str(manifest)
    document["roles"] = {"console": "root"}  # the test runs as root, in group root
    listen = f"127.0.0.1:{free_port()}"
    document["console"] = {"listen": listen, "users_file": str(tmp / "users.json")}
    path.write_text(yaml.safe_dump(document))
    for name, role in PEOPLE.items():
        add_user(tmp / "users.json", name, role, PASSWORD, FAST)
    return path, f"http://{listen}"


@contextmanager
def gatectl(*args: str, ready: str, timeout_s: float = 60) -> Iterator[subprocess.Popen[str]]:
    proc = subprocess.Popen(  # noqa: S603 - our own command line
        [*GATECTL, *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=_pump, args=(proc, lines), daemon=True).start()
    try:
        while ready not in (line := lines.get(timeout=timeout_s)):
            assert line, f"gatectl {args[0]} ended before it was ready"
        yield proc
    finally:
        _stop(proc)


def _pump(proc: subprocess.Popen[str], lines: queue.Queue[str]) -> None:
    assert proc.stdout is not None
    for line in proc.stdout:
        lines.put(line)
    lines.put("")


def _stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def control(path: Path, request: dict[str, object]) -> dict[str, object]:
    with socket.socket(socket.AF_UNIX) as sock:
        sock.settimeout(10)
        sock.connect(str(path))
        sock.sendall(json.dumps(request).encode() + b"\n")
        answer = json.loads(sock.makefile("rb").readline())
    assert isinstance(answer, dict)
    return answer
