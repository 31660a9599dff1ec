"""The pages: the gate, the referral queue, a lane's history, the audit log. Each is one
request to the controller, rendered on the server; an unreachable controller is a page
that says so, not an error."""

from __future__ import annotations

import base64
import re

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from controller.console import views
from controller.console.app import console_of, person, render, session_of, to_login
from controller.console.gateway import Answer, GatewayUnreachable
from controller.console.sessions import Session

HISTORY = 200
SHA256 = re.compile(r"[0-9a-f]{64}")


async def _ask(request: Request, session: Session, query: dict[str, object]) -> Answer:
    try:
        return await console_of(request).gateway.ask(person(session), query)
    except GatewayUnreachable as error:
        return Answer(ok=False, error=str(error), data={})


async def gate(request: Request) -> Response:
    session = session_of(request)
    if session is None:
        return to_login()
    answer = await _ask(request, session, {"op": "status"})
    lanes = [(s, views.lane_fields(s)) for s in views.lanes(answer.data)]
    return render(request, "gate.html", session=session, answer=answer, lanes=lanes)


async def queue(request: Request) -> Response:
    session = session_of(request)
    if session is None:
        return to_login()
    answer = await _ask(request, session, {"op": "status"})
    return render(
        request,
        "queue.html",
        session=session,
        answer=answer,
        held=views.held(answer.data),
        approaches=views.approaches(answer.data),
    )


async def lane(request: Request) -> Response:
    session = session_of(request)
    if session is None:
        return to_login()
    lane_id = request.path_params["lane"]
    answer = await _ask(request, session, {"op": "events", "last": 1000})
    events = answer.data.get("events")
    listed = events if isinstance(events, list) else []
    mine = [e for e in listed if isinstance(e, dict) and e.get("lane") == lane_id]
    rows = [(e.get("type", ""), _detail(e)) for e in reversed(mine[-HISTORY:])]
    alarms = _standing(await _ask(request, session, {"op": "status"}), lane_id)
    return render(
        request, "lane.html", session=session, answer=answer, lane=lane_id, rows=rows, alarms=alarms
    )


def _standing(status: Answer, lane_id: str) -> list[tuple[str, str, bool]]:
    """The lane's standing alarms: (name, text, acknowledged), as status shows them."""
    lanes = status.data.get("lanes")
    for lane in lanes if isinstance(lanes, list) else []:
        if isinstance(lane, dict) and lane.get("lane") == lane_id:
            alarms = lane.get("alarms")
            return (
                [_alarm(name, a) for name, a in alarms.items()] if isinstance(alarms, dict) else []
            )
    return []


def _alarm(name: str, alarm: object) -> tuple[str, str, bool]:
    if isinstance(alarm, dict):
        return name, str(alarm.get("text", "")), bool(alarm.get("acknowledged"))
    return name, str(alarm), False


def _detail(event: dict[str, object]) -> str:
    return ", ".join(f"{k}={v}" for k, v in event.items() if k not in ("lane", "type"))


async def audit(request: Request) -> Response:
    session = session_of(request)
    if session is None:
        return to_login()
    answer = await _ask(request, session, {"op": "audit", "verify": True, "last": HISTORY})
    entries = answer.data.get("entries", [])
    rows = list(reversed(entries)) if isinstance(entries, list) else []
    return render(request, "audit.html", session=session, answer=answer, rows=rows)


async def snapshot(request: Request) -> Response:
    """A camera read's JPEG, by its sha256 (logged in, any role): what the officer checks
    the plate against. Its bytes come from the controller's store, through the socket."""
    session = session_of(request)
    if session is None:
        return to_login()
    sha = request.path_params["sha256"]
    if not SHA256.fullmatch(sha):
        return PlainTextResponse("sha256: 64 lower-case hex digits", status_code=404)
    answer = await _ask(request, session, {"op": "snapshot", "sha256": sha})
    data = answer.data.get("jpeg_base64")
    if not answer.ok or not isinstance(data, str):
        return PlainTextResponse(answer.error or "no snapshot", status_code=404)
    return Response(base64.b64decode(data), media_type="image/jpeg")


ROUTES = [
    Route("/", gate),
    Route("/queue", queue),
    Route("/lanes/{lane}", lane),
    Route("/audit", audit),
    Route("/snapshots/{sha256}.jpg", snapshot),
]
