"""The console's routes, put together: `create_app` is what uvicorn serves."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from starlette.applications import Starlette
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp

from controller.console import actions, auth, live, pages
from controller.console.app import HERE, Console, SecurityHeaders
from controller.console.gateway import GatewaySocket
from controller.console.sessions import Lockout, Sessions
from controller.console.users import Users


def create_app(
    socket: Path,
    users: Users,
    session_minutes: float,
    clock: Callable[[], float] = time.monotonic,
    status_period_s: float = 1.0,
) -> ASGIApp:
    sessions, lockout = Sessions(session_minutes, clock), Lockout(clock)
    console = Console(GatewaySocket(socket), users, sessions, lockout, status_period_s)
    routes = [
        *auth.ROUTES,
        *pages.ROUTES,
        *actions.ROUTES,
        Route("/stream", live.stream),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    app = Starlette(routes=routes)
    app.state.console = console
    return SecurityHeaders(app)
