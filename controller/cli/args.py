"""gatectl's argument checks and its one-line usage errors.

A bad argument is caught here, before anything is sent: exit code 2 and one line naming
the argument (`error: Invalid value for 'LANE': ...`), never a usage block or a
traceback. The checks mirror the maintenance protocol's (protocol.py), which still
validates every request on the controller's side.
"""

from __future__ import annotations

import re
import sys
from enum import StrEnum
from typing import Any, NoReturn

import typer

LANE_ID = re.compile(r"^[A-Za-z0-9_.-]{1,32}$")
TAG = re.compile(r"^[0-9A-Fa-f]{2,64}$")
REQUEST_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")


def lane_id(value: str) -> str:
    if not LANE_ID.match(value):
        raise typer.BadParameter("a lane id is 1-32 letters, digits, '_', '.' or '-' (e.g. L01)")
    return value


def reason_text(value: str) -> str:
    if not 3 <= len(value.strip()) <= 500:
        raise typer.BadParameter("a reason is 3 to 500 characters")
    return value


def request_id_text(value: str | None) -> str | None:
    if value is not None and not REQUEST_ID.match(value):
        raise typer.BadParameter("a request id is 1-128 letters, digits, '_', '.', ':' or '-'")
    return value


def tag_hex(value: str) -> str:
    if not TAG.match(value):
        raise typer.BadParameter("an EPC is 2 to 64 hex digits")
    return value.upper()


class OneLineErrors(typer.Typer):
    """The gatectl app: a usage error is one line on stderr and exit code 2."""

    def __call__(self, *args: Any, **kwargs: Any) -> NoReturn:
        try:
            result = super().__call__(*args, **{**kwargs, "standalone_mode": False})
        except typer.TyperException as error:  # typer's (vendored) click usage errors
            if type(error).__name__ == "NoArgsIsHelpError":
                error.show()  # type: ignore[attr-defined] # `gatectl` alone: its help
            else:
                message = error.format_message().replace("Value error, ", "")
                print(f"error: {message}", file=sys.stderr)
            sys.exit(error.exit_code)
        except typer.Abort:
            sys.exit(130)
        sys.exit(result if isinstance(result, int) else 0)


class SideArg(StrEnum):
    ENTRY = "entry"
    EXIT = "exit"


class ModeArg(StrEnum):
    AUTO = "auto"
    MAINTENANCE = "maintenance"
    CLOSED = "closed"
    EMERGENCY = "emergency"


class BarrierArg(StrEnum):
    OPEN = "open"
    CLOSE = "close"
    STOP = "stop"


class AspectArg(StrEnum):
    RED = "red"
    GREEN = "green"


class HoldArg(StrEnum):
    RELEASE = "release"
    REJECT = "reject"
