"""The actions: forms that POST with the session's CSRF token and become one request to
the maintenance socket on the person's behalf, always with their reason. The page the
form came from shows the controller's answer: accepted, or refused with its reason."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from controller.console.app import back_to, console_of, person, read_form, session_of, to_login
from controller.console.gateway import GatewayUnreachable

CSRF_REFUSED = "refused: the form's CSRF token is missing or wrong; reload the page and retry"


def _request(lane: str, kind: str, form: dict[str, str]) -> dict[str, object] | None:
    reason = form.get("reason", "").strip()
    if kind == "hold":
        return {"op": "hold", "lane": lane, "action": form.get("action", ""), "reason": reason}
    if kind == "identify":
        tag = form.get("tag", "").strip()
        return {"op": "identify", "lane": lane, "tag": tag, "reason": reason}
    if kind == "approach":
        return _approach(lane, form, reason)
    if kind == "reset":
        return {"op": "reset", "lane": lane, "reason": reason}
    if kind == "mode":
        return {"op": "mode", "lane": lane, "mode": form.get("mode", ""), "reason": reason}
    if kind == "ack":
        return {"op": "ack", "lane": lane, "alarm": form.get("alarm", ""), "reason": reason}
    return None


def _approach(lane: str, form: dict[str, str], reason: str) -> dict[str, object]:
    """confirm/refuse, naming the clearance request the card showed (when it showed one),
    so the lane refuses it if another vehicle has taken the approach since."""
    query: dict[str, object] = {"op": "approach", "lane": lane, "action": form.get("action", "")}
    query["reason"] = reason
    request_id = form.get("request_id", "").strip()
    return query | {"request_id": request_id} if request_id else query


async def act(request: Request) -> Response:
    session = session_of(request)
    if session is None:
        return to_login()
    form = await read_form(request)
    if not session.csrf_ok(form.get("csrf", "")):
        return PlainTextResponse(CSRF_REFUSED, status_code=403)
    lane, kind = request.path_params["lane"], request.path_params["kind"]
    query = _request(lane, kind, form)
    if query is None:
        return PlainTextResponse(f"no action {kind!r}", status_code=404)
    what = f"{lane}: {query.get('action') or query.get('mode') or kind}"
    if kind == "ack":
        what = f"{lane}: ack {query['alarm']}"
    try:
        answer = await console_of(request).gateway.ask(person(session), query)
    except GatewayUnreachable as error:
        session.flash.append(("refused", f"{what} not sent: {error}"))
    else:
        refused = ("refused", f"{what}: refused: {answer.error}")
        session.flash.append(("ok", f"{what}: accepted") if answer.ok else refused)
    return RedirectResponse(back_to(form), status_code=303)


ROUTES = [Route("/lanes/{lane}/{kind}", act, methods=["POST"])]
