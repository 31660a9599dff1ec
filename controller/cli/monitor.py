"""`gatectl monitor`: every lane live, full screen, from the maintenance socket only.

Theory of operation: one asyncio loop polls `status` every `--interval` seconds and
follows the lane events (for the last transactions) on a second connection; either
connection failing shows "controller unreachable, retrying" and is retried, so a
restarted controller comes back on screen by itself. The screen is rich's Live on the
alternate screen, redrawn only after a poll. Keys are read in cbreak mode with the
loop's reader on stdin (never a blocking read); `q` quits. The terminal is restored
however the view ends: `q`, Ctrl-C, SIGTERM, SIGHUP (an ssh session dropped) or an error.

Device data age is this host's monotonic clock minus the device's `last_ok`, which is the
controller's loop time: both are CLOCK_MONOTONIC of the same machine (a unix socket is
local), so no clock of the controller needs to be sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
import termios
import time
import tty
from collections.abc import Iterator
from pathlib import Path

from rich.console import Console, Group
from rich.live import Live

from controller.cli.monitor_view import MonitorState, render

ANSWER_TIMEOUT_S = 5.0
ANSWER_LIMIT = 4 * 1024 * 1024  # a status line of many lanes is far over asyncio's 64 KiB
FOLLOW_RETRY_S = 1.0
QUIT_KEYS = frozenset("qQ")


async def run_monitor(socket_path: Path, interval_s: float, console: Console) -> int:
    state = MonitorState(str(socket_path))
    stop = asyncio.Event()
    with (
        _stop_on_signals(stop),
        _keys(stop),
        Live(console=console, screen=True, auto_refresh=False, transient=True) as live,
    ):
        follower = asyncio.create_task(_follow(socket_path, state))
        try:
            while not stop.is_set():
                await _poll(socket_path, state)
                live.update(_view(state, console), refresh=True)
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(interval_s):
                        await stop.wait()
        finally:
            follower.cancel()
            await asyncio.gather(follower, return_exceptions=True)
    return 0


def _view(state: MonitorState, console: Console) -> Group:
    size = console.size
    clock = time.strftime("%H:%M:%S")
    return render(state, size.width, size.height, time.monotonic(), clock)


async def _poll(socket_path: Path, state: MonitorState) -> None:
    try:
        async with asyncio.timeout(ANSWER_TIMEOUT_S):
            answer = await _ask(socket_path, {"op": "status"})
    except (OSError, TimeoutError, ValueError) as error:
        state.unreachable(_why(error))
        return
    data = answer.get("data")
    if answer.get("ok") and isinstance(data, dict):
        state.status_received(data, time.monotonic())
    else:
        state.refused(str(answer.get("error") or "no reason given"))


async def _ask(socket_path: Path, payload: dict[str, object]) -> dict[str, object]:
    reader, writer = await asyncio.open_unix_connection(str(socket_path), limit=ANSWER_LIMIT)
    try:
        writer.write(json.dumps(payload).encode() + b"\n")
        await writer.drain()
        return _answer(await reader.readline())
    finally:
        writer.close()


def _answer(line: bytes) -> dict[str, object]:
    if not line:
        raise ValueError("the controller closed the connection")
    answer = json.loads(line)
    if not isinstance(answer, dict):
        raise ValueError("the controller's answer is not an object")  # noqa: TRY004 - bad input
    return answer


async def _follow(socket_path: Path, state: MonitorState) -> None:
    """The lane events, for the transactions; reconnects after the controller went."""
    while True:
        with contextlib.suppress(OSError, ValueError):
            reader, writer = await asyncio.open_unix_connection(str(socket_path))
            try:
                writer.write(b'{"op": "events", "follow": true, "last": 200}\n')
                await writer.drain()
                while line := await reader.readline():
                    data = _answer(line).get("data")
                    if isinstance(data, dict):
                        state.event_received(data)
            finally:
                writer.close()
        await asyncio.sleep(FOLLOW_RETRY_S)


def _why(error: BaseException) -> str:
    if isinstance(error, TimeoutError):
        return f"no answer within {ANSWER_TIMEOUT_S:.0f} s"
    if isinstance(error, OSError):
        return error.strerror or str(error)
    return str(error)


@contextlib.contextmanager
def _keys(stop: asyncio.Event) -> Iterator[None]:
    """Keys from a terminal's stdin, in cbreak mode; the settings come back on the way out."""
    fd = sys.stdin.fileno() if sys.stdin is not None and sys.stdin.isatty() else -1
    if fd < 0:
        yield
        return
    saved = termios.tcgetattr(fd)
    loop = asyncio.get_running_loop()
    try:
        tty.setcbreak(fd)
        loop.add_reader(fd, _on_key, fd, stop)
        yield
    finally:
        loop.remove_reader(fd)
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


def _on_key(fd: int, stop: asyncio.Event) -> None:
    try:
        pressed = os.read(fd, 32).decode(errors="replace")
    except OSError:
        pressed = "q"  # the terminal is gone: nobody is watching
    if not pressed or QUIT_KEYS.intersection(pressed):
        stop.set()


@contextlib.contextmanager
def _stop_on_signals(stop: asyncio.Event) -> Iterator[None]:
    loop = asyncio.get_running_loop()
    signals = (signal.SIGTERM, signal.SIGHUP)
    for sig in signals:
        loop.add_signal_handler(sig, stop.set)
    try:
        yield
    finally:
        for sig in signals:
            loop.remove_signal_handler(sig)


def monitor_command(config: Path | None, socket_path: Path | None, interval_s: float) -> int:
    """The CLI entry: the socket from --socket, else from the config, else the default."""
    from controller.cli.client import DEFAULT_SOCKET
    from controller.config.load import load_config
    from controller.errors import ConfigError

    console = Console(highlight=False)
    if not console.is_terminal:
        print("error: monitor needs a terminal; use `gatectl status` in scripts", file=sys.stderr)
        return 2
    if socket_path is None and config is not None:
        try:
            socket_path = load_config(config).socket
        except ConfigError as error:
            print(f"error: {str(error).splitlines()[0]}", file=sys.stderr)
            return 2
    try:
        return asyncio.run(run_monitor(socket_path or DEFAULT_SOCKET, interval_s, console))
    except KeyboardInterrupt:
        return 0
