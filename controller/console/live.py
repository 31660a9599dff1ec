"""`/stream`: the gate live, as server-sent events. The console follows the controller's
lane events (the socket's `events --follow`) on the person's behalf and, after each
burst of events and at least every `status_period_s` (the deck weight moves without
events), sends the lanes' fields and the queue's cards. The browser only listens: its
EventSource reconnects by itself; the stream ends when the session does."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from controller.console import views
from controller.console.app import Console, console_of, person, session_of, to_login
from controller.console.gateway import GatewayUnreachable
from controller.console.sessions import Session

Events = asyncio.Queue[dict[str, object]]


async def stream(request: Request) -> Response:
    session = session_of(request)
    if session is None:
        return to_login()
    return StreamingResponse(
        _frames(console_of(request), session),
        media_type="text/event-stream",
        headers={"x-accel-buffering": "no"},
    )


async def _frames(console: Console, session: Session) -> AsyncIterator[str]:
    events: Events = asyncio.Queue(maxsize=1000)
    follower = asyncio.create_task(_follow(console, session, events))
    try:
        while console.sessions.find(session.sid, touch=False) is not None:
            burst = await _burst(events, console.status_period_s)
            for event in burst:
                yield _frame("lane-event", event)
            yield _frame("status", await _status(console, session))
        yield _frame("expired", {"to": "/login"})
    finally:
        follower.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await follower


async def _follow(console: Console, session: Session, events: Events) -> None:
    try:
        async for event in console.gateway.follow(person(session)):
            with contextlib.suppress(asyncio.QueueFull):
                events.put_nowait(event)
    except GatewayUnreachable as error:
        events.put_nowait({"type": "console_lost_the_controller", "error": str(error)})


async def _burst(events: Events, period_s: float) -> list[dict[str, object]]:
    """The events that arrive within `period_s` (at least one wait), all of them."""
    try:
        async with asyncio.timeout(period_s):
            first = await events.get()
    except TimeoutError:
        return []
    burst = [first]
    while not events.empty():
        burst.append(events.get_nowait())
    return burst


async def _status(console: Console, session: Session) -> dict[str, object]:
    try:
        answer = await console.gateway.ask(person(session), {"op": "status"})
    except GatewayUnreachable as error:
        return {"error": str(error)}
    if not answer.ok:
        return {"error": answer.error}
    cards = console.templates.get_template("cards.html").module
    held = views.held(answer.data)
    return {
        "lanes": {str(s.get("lane")): views.lane_fields(s) for s in views.lanes(answer.data)},
        "held": [
            {"id": h.transaction, "html": str(cards.held_card(h, session))}  # type: ignore[attr-defined]
            for h in held
        ],
        "approaches": [
            {"id": a.key, "html": str(cards.approach_card(a, session))}  # type: ignore[attr-defined]
            for a in views.approaches(answer.data)
        ],
    }


def _frame(kind: str, data: object) -> str:
    return f"event: {kind}\ndata: {json.dumps(data, default=str)}\n\n"
