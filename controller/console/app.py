"""The console's ASGI app (Starlette; docs/decisions/0008-console-starlette.md).

Theory of operation: every page and action first finds the person's session (a random id
in a Secure, HttpOnly, SameSite=Strict cookie; sessions.py). Pages are rendered on the
server from one status request; actions are forms that POST with the session's CSRF
token and become one request to the maintenance socket on the person's behalf; the
controller's answer, accepted or refused with the interlock's reason, is shown on the
page they return to. `/stream` keeps a page live with server-sent events (live.py);
`site.create_app` puts the routes together.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from controller.console.gateway import GatewaySocket, Person
from controller.console.sessions import Lockout, Session, Sessions
from controller.console.users import Users

HERE = Path(__file__).parent
COOKIE = "gatebridge_session"
MAX_FORM = 16 * 1024
BACK = re.compile(r"/[A-Za-z0-9_./-]*")
SECURITY_HEADERS = [
    (b"content-security-policy", b"default-src 'self'; frame-ancestors 'none'; form-action 'self'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"cache-control", b"no-store"),
]


@dataclass
class Console:
    gateway: GatewaySocket
    users: Users
    sessions: Sessions
    lockout: Lockout
    status_period_s: float = 1.0
    templates: Environment = field(
        default_factory=lambda: Environment(
            loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape()
        )
    )


def console_of(request: Request) -> Console:
    console: Console = request.app.state.console
    return console


def session_of(request: Request, *, touch: bool = True) -> Session | None:
    return console_of(request).sessions.find(request.cookies.get(COOKIE), touch=touch)


def person(session: Session) -> Person:
    return Person(session.user, session.role)


def render(request: Request, template: str, status_code: int = 200, **context: object) -> Response:
    session = context.get("session")
    flash = session.flash[:] if isinstance(session, Session) else []
    if isinstance(session, Session):
        session.flash.clear()
    html = console_of(request).templates.get_template(template).render(flash=flash, **context)
    return HTMLResponse(html, status_code=status_code)


def to_login() -> Response:
    return RedirectResponse("/login", status_code=303)


async def read_form(request: Request) -> dict[str, str]:
    body = await request.body()
    if len(body) > MAX_FORM:
        return {}
    try:
        parsed = parse_qs(body.decode("utf-8", errors="replace"), max_num_fields=20)
    except ValueError:  # more fields than any of our forms has
        return {}
    return {key: values[0] for key, values in parsed.items()}


def back_to(form: dict[str, str], default: str = "/") -> str:
    """Where a form returns: a path on this console, never another site ('//host' and
    '/\\host' are other sites to a browser)."""
    target = form.get("back", default)
    return target if BACK.fullmatch(target) and not target.startswith("//") else default


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS]
            await send(message)

        await self.app(scope, receive, with_headers if scope["type"] == "http" else send)
