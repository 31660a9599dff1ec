"""gatectl's lane commands: one JSON-lines request to the controller's maintenance socket.

The controller identifies the caller by SO_PEERCRED and decides by role; this side only
builds the request, shows the answer, and turns a refusal into exit code 1 (a bad
argument or an unreachable socket: exit code 2), with a one-line message.
"""

from __future__ import annotations

import json
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

DEFAULT_SOCKET = Path("/run/gatebridge/gatectl.sock")


class ClientError(Exception):
    """The controller cannot be reached or answered nonsense."""


def _connect(path: Path) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(str(path))
    except OSError as error:
        sock.close()
        raise ClientError(
            f"socket {path}: cannot connect ({error.strerror or error}); "
            "is `gatectl run` running, and are you in its group?"
        ) from None
    return sock


def request(path: Path, payload: dict[str, object], timeout_s: float = 10.0) -> dict[str, object]:
    with _connect(path) as sock:
        sock.settimeout(timeout_s)
        sock.sendall(json.dumps(payload).encode() + b"\n")
        return _first(sock.makefile("rb"))


def _first(stream: object) -> dict[str, object]:
    line = stream.readline()  # type: ignore[attr-defined]
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
    with _connect(path) as sock:
        sock.sendall(json.dumps({"op": "events", "follow": True, "last": last}).encode() + b"\n")
        stream = sock.makefile("rb")
        while line := stream.readline():
            yield json.loads(line).get("data", {})


def show(answer: dict[str, object]) -> int:
    if not answer.get("ok"):
        print(f"refused: {answer.get('error') or 'no reason given'}", file=sys.stderr)
        return 1
    print(json.dumps(answer.get("data", {}), indent=2, sort_keys=True))
    return 0
