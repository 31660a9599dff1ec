"""`gatectl journal export`: the journal of a gateway as JSON Lines.

Reads the journal file the config names, read-only, so it runs beside a live controller
(DESIGN 6: retention is by age and size, with an export). Errors are one line each on
stderr, exit code 2, never a traceback; the JSON goes to `--out` (stdout by default) and
the count to stderr, so stdout stays pure JSON Lines.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn, TextIO

import typer

from controller.cli.loading import load_or_exit
from controller.journal.codec import normalized_ts
from controller.journal.export import export_jsonl
from controller.journal.sqlite import JournalError

journal_app = typer.Typer(
    help="The lane journal: events and transactions.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@journal_app.callback()
def journal() -> None:
    """The lane journal: events and transactions."""
    # a callback keeps `export` a named subcommand even while it is the only one


@journal_app.command()
def export(
    config: Path = typer.Option(
        ..., "--config", "-c", envvar="GATEBRIDGE_CONFIG", help="The gateway config (YAML)."
    ),
    lane: str | None = typer.Option(None, "--lane", help="Only this lane's records."),
    since: str | None = typer.Option(
        None, "--since", help="Only records at or after this RFC 3339 time (or date), UTC."
    ),
    out: str = typer.Option("-", "--out", "-o", help="Write here; - is stdout."),
    as_json: bool = typer.Option(
        True, "--json", help="JSON Lines (the only format: accepted like every read command's)."
    ),
) -> None:
    """Write the journal's events and transactions as JSON Lines, oldest first."""
    del as_json  # the export is machine output already
    gateway = load_or_exit(config)
    since = None if since is None else _since(since)
    if lane is not None and lane not in {lane_.id for lane_ in gateway.lanes}:
        known = ", ".join(lane_.id for lane_ in gateway.lanes)
        _fail(f"--lane {lane}: not a lane of this gateway ({known})")
    try:
        with _output(out) as stream:
            count = export_jsonl(gateway.journal, stream, lane=lane, since=since)
    except JournalError as error:
        _fail(str(error))
    except OSError as error:
        _fail(f"--out {out}: cannot write ({error.strerror or error})")
    print(f"exported {count} record(s) from {gateway.journal}", file=sys.stderr)


def _since(text: str) -> str:
    try:
        return normalized_ts(text)
    except ValueError as error:
        _fail(f"--since {text}: not an RFC 3339 time such as 2027-01-15T08:00:00Z ({error})")


@contextmanager
def _output(out: str) -> Iterator[TextIO]:
    """stdout, or a file that appears only once complete (a failed export leaves none)."""
    if out == "-":
        yield sys.stdout
        sys.stdout.flush()
        return
    target = Path(out)
    partial = target.with_name(target.name + ".partial")
    try:
        with partial.open("w", encoding="utf-8") as stream:
            yield stream
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)


def _fail(message: str) -> NoReturn:
    print(f"error: {message}", file=sys.stderr)
    raise typer.Exit(2)
