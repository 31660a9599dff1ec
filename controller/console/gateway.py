"""The console's side of the maintenance socket: JSON lines, every request on behalf of
the signed-in person (controller/maintenance/delegation.py decides what that means).

The console holds no lane state and decides nothing: every read and every action is one
request to the controller, so the interlock and the audit chain stay the single path.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

TIMEOUT_S = 10.0
MAX_LINE = 4 * 1024 * 1024  # a status of many lanes, or the audit's tail


class GatewayUnreachable(Exception):
    """The controller's socket cannot be reached or answered nonsense."""


@dataclass(frozen=True, slots=True)
class Answer:
    ok: bool
    error: str
    data: dict[str, object]


@dataclass(frozen=True, slots=True)
class Person:
    user: str
    role: str


class GatewaySocket:
    def __init__(self, path: Path) -> None:
        self.path = path

    async def ask(self, person: Person, request: dict[str, object]) -> Answer:
        reader, writer = await self._open()
        try:
            async with asyncio.timeout(TIMEOUT_S):
                await _send(writer, person, request)
                return _answer(await reader.readline())
        except TimeoutError:
            message = f"socket {self.path}: no answer in {TIMEOUT_S:.0f} s"
            raise GatewayUnreachable(message) from None
        finally:
            writer.close()

    async def follow(self, person: Person, last: int = 0) -> AsyncIterator[dict[str, object]]:
        """The lane events as they happen (the `events --follow` stream)."""
        reader, writer = await self._open()
        try:
            await _send(writer, person, {"op": "events", "follow": True, "last": last})
            while line := await reader.readline():
                answer = _answer(line)
                if not answer.ok:
                    raise GatewayUnreachable(answer.error)
                yield answer.data
        finally:
            writer.close()

    async def _open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        try:
            return await asyncio.open_unix_connection(str(self.path), limit=MAX_LINE)
        except OSError as error:
            raise GatewayUnreachable(
                f"socket {self.path}: cannot connect ({error.strerror or error}); "
                "is `gatectl run` running, and is the console's user in its groups?"
            ) from None


async def _send(writer: asyncio.StreamWriter, person: Person, request: dict[str, object]) -> None:
    body = {**request, "on_behalf": {"user": person.user, "role": person.role}}
    writer.write(json.dumps(body).encode() + b"\n")
    await writer.drain()


def _answer(line: bytes) -> Answer:
    if not line:
        raise GatewayUnreachable("the controller closed the connection without an answer")
    try:
        answer = json.loads(line)
    except json.JSONDecodeError:
        message = f"the controller answered something not JSON: {line[:80]!r}"
        raise GatewayUnreachable(message) from None
    if not isinstance(answer, dict) or not isinstance(answer.get("data", {}), dict):
        raise GatewayUnreachable("the controller's answer is not an object")
    return Answer(bool(answer.get("ok")), str(answer.get("error", "")), answer.get("data", {}))
