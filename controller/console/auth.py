"""Signing in and out. The sign-in form carries its own CSRF token (a random value in a
short-lived cookie and in the form, compared), so no other site can sign a browser in."""

from __future__ import annotations

import hmac
import math
import secrets

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from controller.console.app import COOKIE, console_of, read_form, render, session_of
from controller.console.users import UsersFileError

LOGIN_COOKIE = "gatebridge_login"


async def login_page(request: Request) -> Response:
    if session_of(request) is not None:
        return RedirectResponse("/", status_code=303)
    return _form(request, "", 200)


def _form(request: Request, error: str, status_code: int, name: str = "") -> Response:
    token = secrets.token_urlsafe(32)
    response = render(request, "login.html", status_code, error=error, token=token, name=name)
    response.set_cookie(
        LOGIN_COOKIE, token, max_age=900, httponly=True, secure=True, samesite="strict"
    )
    return response


async def login(request: Request) -> Response:
    form = await read_form(request)
    expected = request.cookies.get(LOGIN_COOKIE, "")
    if not expected or not hmac.compare_digest(expected, form.get("csrf", "")):
        return _form(request, "The sign-in form expired: sign in again.", 403)
    console, name = console_of(request), form.get("name", "").strip()
    locked = console.lockout.locked_for(name)
    if locked:
        minutes = math.ceil(locked / 60)
        message = f"Too many failed sign-ins for {name}: locked for {minutes} more minute(s)."
        return _form(request, message, 429, name)
    try:
        account = await run_in_threadpool(console.users.check, name, form.get("password", ""))
    except UsersFileError as error:
        return _form(request, f"Sign-in is unavailable: {error}. Tell a technician.", 503)
    if account is None:
        console.lockout.failed(name)
        return _form(request, "Wrong name or password.", 401, name)
    console.lockout.succeeded(name)
    session = console.sessions.start(account.name, account.role)
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(COOKIE, session.sid, httponly=True, secure=True, samesite="strict")
    response.delete_cookie(LOGIN_COOKIE)
    return response


async def logout(request: Request) -> Response:
    form = await read_form(request)
    session = session_of(request, touch=False)
    if session is not None and session.csrf_ok(form.get("csrf", "")):
        console_of(request).sessions.end(session.sid)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE)
    return response


ROUTES = [
    Route("/login", login_page, methods=["GET"]),
    Route("/login", login, methods=["POST"]),
    Route("/logout", logout, methods=["POST"]),
]
