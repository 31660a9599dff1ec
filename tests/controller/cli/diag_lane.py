"""An emulated lane served by `gatectl emulate` in its own process (Modbus TCP on a free
port, the RS-485 bus, scale and RFID reader on ptys) for `gatectl diag`'s tests, which
run the diag commands in this process through typer's runner."""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

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


def serve_lane(tmp: Path) -> Iterator[Lane]:
    port = free_port()
    config = lane_config(tmp, port)
    control = tmp / "emulate.sock"
    command = [sys.executable, "-m", "controller.cli.main", "emulate", "--config", str(config),
               "--control", str(control)]  # fmt: skip
    proc = subprocess.Popen(  # noqa: S603 - our own CLI
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    try:
        _until_ready(proc, timeout_s=60.0)
        yield Lane(config, tmp, port)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _until_ready(proc: subprocess.Popen[bytes], timeout_s: float) -> None:
    """Wait for the `ready` line, reading the pipe unbuffered (select sees the pipe, not
    a file object's buffer)."""
    assert proc.stdout is not None
    fd, seen = proc.stdout.fileno(), b""
    deadline = time.monotonic() + timeout_s
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        while b"ready\n" not in seen and time.monotonic() < deadline:
            if selector.select(deadline - time.monotonic()):
                chunk = os.read(fd, 4096)
                assert chunk, f"gatectl emulate ended before it was ready: {seen.decode()}"
                seen += chunk
    assert b"ready\n" in seen, "gatectl emulate was not ready in time"
