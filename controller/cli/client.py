"""gatectl's lane commands: one JSON-lines request to the controller's maintenance socket.

The controller identifies the caller by SO_PEERCRED and decides by role; this side finds
the socket (`--socket`, else the socket of `--config`, else $GATEBRIDGE_SOCKET, else the
socket of $GATEBRIDGE_CONFIG, else /run/gatebridge/gatectl.sock), sends the request,
prints the answer (a table or lines for people, `--json` for scripts) and exits with the
code of the answer's `kind`: 0 ok, 1 refused (the controller or an interlock said no),
2 usage (a bad argument), 3 unreachable (no socket, connection refused, no answer in
time), 4 device error. Every error is one line on stderr, never a traceback.

`ask` is the one helper every socket command goes through.
"""

from __future__ import annotations

import json
import os
import socket
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import BinaryIO, NoReturn

import typer

DEFAULT_SOCKET = Path("/run/gatebridge/gatectl.sock")
SOCKET_ENV, CONFIG_ENV = "GATEBRIDGE_SOCKET", "GATEBRIDGE_CONFIG"
EXIT_OK, EXIT_REFUSED, EXIT_USAGE, EXIT_UNREACHABLE, EXIT_DEVICE = 0, 1, 2, 3, 4
EXIT_OF_KIND = {"ok": EXIT_OK, "refused": EXIT_REFUSED, "usage": EXIT_USAGE, "device": EXIT_DEVICE}
PREFIX_OF_KIND = {"refused": "refused", "usage": "error", "device": "device error"}
Render = Callable[[dict[str, object]], None]


class ClientError(Exception):
    """The controller cannot be reached or answered nonsense (`code`: the exit code)."""

    def __init__(self, message: str, code: int = EXIT_UNREACHABLE) -> None:
        super().__init__(message)
        self.code = code


def resolve_socket(
    socket_path: Path | None, config: Path | None, env: Mapping[str, str] = os.environ
) -> Path:
    """The socket to talk to: flags before environment, a socket before a config."""
    if socket_path is not None:
        return socket_path
    if config is not None:
        return _socket_of(config, "--config")
    if env.get(SOCKET_ENV):
        return Path(env[SOCKET_ENV])
    if env.get(CONFIG_ENV):
        return _socket_of(Path(env[CONFIG_ENV]), f"${CONFIG_ENV}")
    return DEFAULT_SOCKET


def socket_for(socket_path: Path | None, config: Path | None) -> Path:
    """`resolve_socket`, or exit 2 with one line when the config cannot say."""
    try:
        return resolve_socket(socket_path, config)
    except ClientError as error:
        fail(str(error), error.code)


def _socket_of(config: Path, where: str) -> Path:
    from controller.config.load import load_config
    from controller.errors import ConfigError

    try:
        return load_config(config).socket
    except ConfigError as error:
        first = str(error).splitlines()[0]
        raise ClientError(f"{where} {config}: {first}", EXIT_USAGE) from None


def _connect(path: Path, timeout_s: float) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout_s)
    try:
        sock.connect(str(path))
    except OSError as error:
        sock.close()
        raise ClientError(
            f"socket {path}: cannot connect ({error.strerror or error}); "
            "is `gatectl run` running, and are you in its group?"
        ) from None
    return sock


def request(
    path: Path, payload: Mapping[str, object], timeout_s: float = 10.0
) -> dict[str, object]:
    with _connect(path, timeout_s) as sock:
        try:
            sock.sendall(json.dumps(payload).encode() + b"\n")
            return _first(sock.makefile("rb"))
        except TimeoutError:
            raise ClientError(f"socket {path}: no answer within {timeout_s:g} s") from None
        except OSError as error:
            raise ClientError(f"socket {path}: {error.strerror or error}") from None


def _first(stream: BinaryIO) -> dict[str, object]:
    line = stream.readline()
    if not line:
        raise ClientError("the controller closed the connection without an answer")
    try:
        answer = json.loads(line)
    except json.JSONDecodeError:
        raise ClientError(
            f"the controller answered something that is not JSON: {line[:80]!r}"
        ) from None
    if not isinstance(answer, dict):
        raise ClientError("the controller's answer is not an object")
    return answer


def follow(path: Path, last: int) -> Iterator[dict[str, object]]:
    with _connect(path, 10.0) as sock:
        sock.sendall(json.dumps({"op": "events", "follow": True, "last": last}).encode() + b"\n")
        sock.settimeout(None)  # following waits as long as the lane is quiet
        stream = sock.makefile("rb")
        while True:
            try:
                answer = _first(stream)
            except OSError as error:
                raise ClientError(f"socket {path}: {error.strerror or error}") from None
            if not answer.get("ok"):
                raise ClientError(str(answer.get("error")), exit_code(answer))
            data = answer.get("data")
            yield data if isinstance(data, dict) else {}


def exit_code(answer: Mapping[str, object]) -> int:
    kind = answer.get("kind")
    if isinstance(kind, str) and kind in EXIT_OF_KIND:
        return EXIT_OF_KIND[kind]
    return EXIT_OK if answer.get("ok") else EXIT_REFUSED  # a controller before `kind`


def show(answer: dict[str, object], render: Render | None = None, as_json: bool = False) -> int:
    """Print the answer (data on stdout, an error as one line on stderr); its exit code."""
    code = exit_code(answer)
    data = answer.get("data")
    data = data if isinstance(data, dict) else {}
    if as_json:
        print(json.dumps({**answer, "data": data}, sort_keys=True, ensure_ascii=False))
    elif code == EXIT_OK:
        (render or _render_json)(data)
    if code != EXIT_OK:
        kind = next((k for k, c in EXIT_OF_KIND.items() if c == code), "refused")
        error = str(answer.get("error") or "no reason given").replace("\n", " ")
        print(f"{PREFIX_OF_KIND.get(kind, 'refused')}: {error}", file=sys.stderr)
    return code


def _render_json(data: dict[str, object]) -> None:
    print(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False))


def fail(message: str, code: int) -> NoReturn:
    print(f"error: {message}", file=sys.stderr)
    raise typer.Exit(code)


def ask(
    socket_path: Path,
    payload: Mapping[str, object],
    render: Render | None = None,
    *,
    as_json: bool = False,
    timeout_s: float = 10.0,
) -> NoReturn:
    """Ask the controller, print its answer, exit with the answer's code."""
    try:
        answer = request(socket_path, payload, timeout_s)
    except ClientError as error:
        fail(str(error), error.code)
    raise typer.Exit(show(answer, render, as_json))
