"""A throwaway mosquitto broker for tests: its own config, log and persistence in a work
directory, a listener on 127.0.0.1 at a free port, started and stopped by pid.

    with Mosquitto(tmp_path) as broker:      # or the `mosquitto` fixture of tests/bridge
        ... aiomqtt.Client("127.0.0.1", broker.port) ...
        broker.kill()                        # a crash: nothing saved
        broker.restart()                     # the same port again (mosquitto sets SO_REUSEADDR)

The port is chosen when the object is made, so `.port` and `.url` are known before the
broker runs (a gateway can be configured, and started, before its broker). The helper
owns the one listener: `extra_conf` is written after the listener line, so listener
options in it (certfile, ...) apply to that listener, and global options in it override
the defaults above it (`allow_anonymous false`). Persistence is on, in the work
directory: `stop()` saves sessions and retained messages, `kill()` loses what was not
autosaved. A missing mosquitto is an error, never a skip: `make test` installs it.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType
from typing import Self

HOST = "127.0.0.1"
START_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 10.0
_POLL_S = 0.02
_RUNNING = re.compile(r"mosquitto version \S+ running")
_OWN_DIRECTIVES = ("listener", "port", "bind_address", "pid_file", "persistence_location")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def mosquitto_binary() -> str:
    found = shutil.which("mosquitto")
    if found:
        return found
    for candidate in ("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto"):
        if os.access(candidate, os.X_OK):
            return candidate
    raise RuntimeError(
        "mosquitto not found on PATH nor in /usr/sbin: the MQTT tests need the broker; "
        "run `make test` (scripts/ensure-sysdeps.sh installs it) or apt-get install mosquitto"
    )


class Mosquitto:
    """One mosquitto process; see the module docstring."""

    def __init__(self, workdir: Path, *, extra_conf: str = "", port: int | None = None) -> None:
        for line in extra_conf.splitlines():
            words = line.split()
            if words and words[0] in _OWN_DIRECTIVES:
                raise ValueError(f"extra_conf must not set {words[0]!r}: the helper owns it")
        self.workdir = Path(workdir)
        self.extra_conf = extra_conf
        self.port = port if port is not None else free_port()
        self.tls = any(line.split()[:1] == ["certfile"] for line in extra_conf.splitlines())
        self.conf_path = self.workdir / "mosquitto.conf"
        self.log_path = self.workdir / "mosquitto.log"
        self.output_path = self.workdir / "mosquitto.out"
        self._proc: subprocess.Popen[bytes] | None = None

    # ------------------------------------------------------------------ properties
    @property
    def url(self) -> str:
        """`mqtt://127.0.0.1:PORT` (`mqtts://` when extra_conf makes the listener TLS)."""
        return f"{'mqtts' if self.tls else 'mqtt'}://{HOST}:{self.port}"

    @property
    def pid(self) -> int:
        if self._proc is None:
            raise RuntimeError("mosquitto is not started")
        return self._proc.pid

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def log(self) -> str:
        """The broker's log so far (all starts), for assertions and failure messages."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    # ------------------------------------------------------------------ lifecycle
    def config(self) -> str:
        user = pwd.getpwuid(os.getuid()).pw_name
        return "\n".join(
            [
                "# written by tests/broker.py",
                # as root mosquitto would switch to the `mosquitto` user, which cannot read
                # a pytest tmp_path (0700); for a non-root user this line has no effect
                f"user {user}",
                "persistence true",
                f"persistence_location {self.workdir}/",
                f"log_dest file {self.log_path}",
                "log_type all",
                "log_timestamp_format %Y-%m-%dT%H:%M:%S",
                "allow_anonymous true",
                f"listener {self.port} {HOST}",
                self.extra_conf,
                "",
            ]
        )

    def start(self) -> Self:
        if self.running:
            raise RuntimeError(f"mosquitto already runs (pid {self.pid})")
        binary = mosquitto_binary()
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.conf_path.write_text(self.config())
        log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        with self.output_path.open("ab") as output:
            self._proc = subprocess.Popen(  # noqa: S603 - our own binary and config
                [binary, "-c", str(self.conf_path)],
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                cwd=self.workdir,
                start_new_session=True,  # a ^C to pytest is not delivered to the broker
            )
        try:
            self._wait_ready(log_offset)
        except BaseException:
            self.kill()
            raise
        return self

    def _wait_ready(self, log_offset: int) -> None:
        """Ready = this process logged `running` (its listener is open: a foreign process
        on the port cannot fool us) and the port accepts a TCP connection."""
        deadline = time.monotonic() + START_TIMEOUT_S
        proc = self._proc
        assert proc is not None
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(
                    f"mosquitto exited with {proc.returncode} at start\n{self._diagnostics()}"
                )
            if self._logged_running(log_offset) and self._accepts():
                return
            time.sleep(_POLL_S)  # polling a condition, with a deadline
        raise RuntimeError(
            f"mosquitto not ready on {HOST}:{self.port} within {START_TIMEOUT_S} s\n"
            f"{self._diagnostics()}"
        )

    def _logged_running(self, offset: int) -> bool:
        if not self.log_path.exists():
            return False
        with self.log_path.open("rb") as log:
            log.seek(offset)
            return _RUNNING.search(log.read().decode(errors="replace")) is not None

    def _accepts(self) -> bool:
        try:
            with socket.create_connection((HOST, self.port), timeout=0.5):
                return True
        except OSError:
            return False

    def _diagnostics(self) -> str:
        output = self.output_path.read_text(errors="replace") if self.output_path.exists() else ""
        tail = "\n".join(self.log().splitlines()[-20:])
        return f"--- output ---\n{output}--- log (tail) ---\n{tail}"

    def stop(self) -> None:
        """SIGTERM (mosquitto saves its persistence file), wait; SIGKILL on timeout."""
        proc = self._proc
        if proc is None or proc.poll() is not None:
            return
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.kill()

    def kill(self) -> None:
        """SIGKILL and wait: a crash or a power cut, nothing saved."""
        proc = self._proc
        if proc is None or proc.poll() is not None:
            return
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=STOP_TIMEOUT_S)

    def restart(self) -> Self:
        """Stop (if it still runs) and start again on the same port, with the same config."""
        self.stop()
        return self.start()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
