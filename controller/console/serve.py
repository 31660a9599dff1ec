"""`gatectl console`: the console app under uvicorn, on the configured address, with TLS
when a certificate is configured."""

from __future__ import annotations

import socket as stdlib_socket
from collections.abc import Callable
from pathlib import Path
from typing import TypedDict

import uvicorn
from starlette.types import ASGIApp

from controller.config.console import ConsoleConfig, host_and_port
from controller.console.site import create_app
from controller.console.users import Users


def console_app(settings: ConsoleConfig, socket: Path) -> ASGIApp:
    return create_app(socket, Users(settings.users_file), settings.session_minutes)


class ServerOptions(TypedDict):
    host: str
    port: int
    ssl_certfile: str | None
    ssl_keyfile: str | None


def server_options(settings: ConsoleConfig) -> ServerOptions:
    host, port = host_and_port(settings.listen)
    return {
        "host": host,
        "port": port,
        "ssl_certfile": None if settings.tls_cert is None else str(settings.tls_cert),
        "ssl_keyfile": None if settings.tls_key is None else str(settings.tls_key),
    }


def serve(
    settings: ConsoleConfig, socket: Path, started: Callable[[str], None] = lambda _url: None
) -> None:
    """Bind, say so (`started`, once the port takes connections), then serve."""
    options = server_options(settings)
    config = uvicorn.Config(
        console_app(settings, socket),
        log_level="warning",
        proxy_headers=False,
        server_header=False,
        **options,
    )
    family = stdlib_socket.AF_INET6 if ":" in options["host"] else stdlib_socket.AF_INET
    listener = stdlib_socket.socket(family, stdlib_socket.SOCK_STREAM)
    listener.setsockopt(stdlib_socket.SOL_SOCKET, stdlib_socket.SO_REUSEADDR, 1)
    listener.bind((options["host"], options["port"]))
    listener.listen(128)
    started(f"{'https' if settings.tls else 'http'}://{settings.listen}/")
    uvicorn.Server(config).run(sockets=[listener])
