"""`gatectl events`: the lanes' journaled events, recent ones and (with --follow) new ones.

Each event is one line with its wall-clock time, lane, seq and type; with `--json`, one
JSON object per line (JSON Lines) with the fields the MQTT events topic carries (`ts`,
`seq`, `event_id`, `type`, and the event's data).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import typer

from controller.cli import client
from controller.cli.client import EXIT_OK, ClientError, ask, fail
from controller.cli.views import event_line, render_events


def show_events(socket_path: Path, last: int, *, follow: bool, as_json: bool) -> None:
    if not follow:
        ask(socket_path, {"op": "events", "last": last}, _json_lines if as_json else render_events)
    try:
        for event in client.follow(socket_path, last):
            print(_json(event) if as_json else event_line(event), flush=True)
    except ClientError as error:
        fail(str(error), error.code)
    except KeyboardInterrupt:
        raise typer.Exit(EXIT_OK) from None


def _json(event: Mapping[str, object]) -> str:
    return json.dumps(event, sort_keys=True, ensure_ascii=False)


def _json_lines(data: dict[str, object]) -> None:
    events = data.get("events")
    for event in events if isinstance(events, list) else []:
        if isinstance(event, dict):
            print(_json(event))
