"""`gatectl console`: the officers' web console (docs/console.md), and its accounts."""

from __future__ import annotations

import getpass
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from controller.config.console import ConsoleConfig
    from controller.config.models import GatewayConfig

console_app = typer.Typer(
    help="The officers' web console (a client of the maintenance socket).",
    invoke_without_command=True,
)


@console_app.callback()
def console(
    ctx: typer.Context,
    config: Path | None = typer.Option(None, "--config", "-c", help="The gateway config (YAML)."),
    listen: str | None = typer.Option(
        None, "--listen", help="HOST:PORT (default: console.listen, 127.0.0.1:8443)."
    ),
) -> None:
    """Serve the console on console.listen, acting through the config's socket."""
    if ctx.invoked_subcommand is not None:
        return
    if config is None:
        print("error: --config: the gateway config is required", file=sys.stderr)
        raise typer.Exit(2)
    from controller.cli.main import _load
    from controller.console.serve import serve

    settings = _load(config)
    console_settings = settings.console if listen is None else _listening(settings, listen)
    serve(console_settings, settings.socket, lambda url: _started(url, settings))


def _listening(settings: GatewayConfig, listen: str) -> ConsoleConfig:
    """The config's console section on the command line's address, by the same rules."""
    from pydantic import ValidationError

    from controller.config.console import ConsoleConfig

    try:
        return ConsoleConfig.model_validate({**settings.console.model_dump(), "listen": listen})
    except ValidationError as error:
        message = str(error.errors()[0]["msg"]).removeprefix("Value error, ")
        print(f"error: --listen: {message}", file=sys.stderr)
        raise typer.Exit(2) from None


@console_app.command("adduser")
def adduser(
    name: str = typer.Argument(..., help="The person's sign-in name."),
    role: str = typer.Option(..., "--role", help="officer, technician or viewer."),
    config: Path | None = typer.Option(None, "--config", "-c", help="Its console.users_file."),
    users_file: Path | None = typer.Option(None, "--users-file", help="Or the file itself."),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from stdin (also when piped)."
    ),
) -> None:
    """Add (or replace) a console account: argon2id hash, file 0600, written atomically."""
    from controller.cli.main import _load
    from controller.console.users import UsersFileError, add_user

    path = users_file or (_load(config).console.users_file if config else None)
    if path is None:
        print("error: --config or --users-file: say which users file", file=sys.stderr)
        raise typer.Exit(2)
    piped = password_stdin or not sys.stdin.isatty()
    password = sys.stdin.readline().rstrip("\n") if piped else _prompt()
    try:
        add_user(path, name, role, password)
    except UsersFileError as error:
        print(f"error: {error}", file=sys.stderr)
        raise typer.Exit(2) from None
    print(f"{name} ({role}) written to {path}")


def _started(url: str, settings: GatewayConfig) -> None:
    print(f"console on {url} (socket {settings.socket})", flush=True)


def _prompt() -> str:
    password = getpass.getpass("password: ")
    if password != getpass.getpass("again: "):
        print("error: password: the two entries differ", file=sys.stderr)
        raise typer.Exit(2)
    return password
