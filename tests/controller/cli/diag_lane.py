"""An emulated lane served by `gatectl emulate` in its own process (Modbus TCP on a free
port, the RS-485 bus, scale and RFID reader on ptys) for `gatectl diag`'s tests, which
run the diag commands in this process through typer's runner."""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import yaml
from typer.testing import CliRunner

from controller.cli.main import app
from tests.e2e.test_emulate_and_run import ROOT, free_port, lane_config


@dataclass(frozen=True)
class Lane:
    config: Path
    tmp: Path
    port: int

    @property
    def tcp(self) -> str:
        return f"tcp://127.0.0.1:{self.port}"

    @property
    def rtu(self) -> str:
        return f"rtu://{self.tmp}/rs485?baud=38400"


@dataclass(frozen=True)
class Ran:
    code: int
    stdout: str
    stderr: str


def gatectl(*args: str) -> Ran:
    result = CliRunner().invoke(app, list(args))
    return Ran(result.exit_code, result.stdout, result.stderr)


def serve_lane(tmp: Path, barrier_travel_s: float | None = None) -> Iterator[Lane]:
    port = free_port()
    config = lane_config(tmp, port)
    if barrier_travel_s is not None:  # quick arms, for tests that move them in real time
        document = yaml.safe_load(config.read_text())
        document["lanes"][0].setdefault("emulation", {})["barrier_travel_s"] = barrier_travel_s
        config.write_text(yaml.safe_dump(document))
    control = tmp / "emulate.sock"
    command = [sys.executable, "-m", "controller.cli.main", "emulate", "--config", str(config),
               "--control", str(control)]  # fmt: skip
    with _serving(command, b"ready\n"):
        yield Lane(config, tmp, port)


def serve_controller(lane: Lane) -> Generator[Path, None, None]:
    """`gatectl run` on the lane's config: the controller owns its endpoints; its socket."""
    command = [sys.executable, "-m", "controller.cli.main", "run", "--config", str(lane.config)]
    with _serving(command, b"running "):
        yield lane.tmp / "gatectl.sock"


@contextmanager
def _serving(command: list[str], ready: bytes) -> Iterator[None]:
    proc = subprocess.Popen(  # noqa: S603 - our own CLI
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    try:
        _until_ready(proc, ready, timeout_s=60.0)
        with _draining(proc):
            yield
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextmanager
def _draining(proc: subprocess.Popen[bytes]) -> Iterator[None]:
    """Read on, as journald would: a full pipe would stall the child's log writer."""
    assert proc.stdout is not None
    stream = proc.stdout
    reader = threading.Thread(target=lambda: [None for _ in iter(lambda: stream.read(65536), b"")],
                              daemon=True)  # fmt: skip
    reader.start()
    yield


def _until_ready(proc: subprocess.Popen[bytes], ready: bytes, timeout_s: float) -> None:
    """Wait for the `ready` text, reading the pipe unbuffered (select sees the pipe, not
    a file object's buffer)."""
    assert proc.stdout is not None
    fd, seen = proc.stdout.fileno(), b""
    deadline = time.monotonic() + timeout_s
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        while ready not in seen and time.monotonic() < deadline:
            if selector.select(deadline - time.monotonic()):
                chunk = os.read(fd, 4096)
                assert chunk, f"{ready!r} not seen before the process ended: {seen.decode()}"
                seen += chunk
    assert ready in seen, f"{ready!r} not seen in time: {seen.decode()}"
