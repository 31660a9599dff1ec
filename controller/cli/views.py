"""How gatectl shows the controller's answers to a person (`--json` is for scripts).

Status is a table per gateway and one per lane's devices; events and audit entries are
one line each, oldest first, with their wall-clock time; an operation says what the lane
made of it. Everything fits 80 columns where it can and reads over ssh.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from rich.console import Console
from rich.table import Table

IDENTITY = ("lane", "type", "seq", "event_id", "ts")
DECIDABLE = ("identity_mismatch", "awaiting_confirmation")  # gatectl confirm / refuse
EVIDENCE = ("tag", "plate", "plate_confidence", "expected_plate", "snapshot_sha256", "request_id")


def _console() -> Console:
    return Console(highlight=False, soft_wrap=True)


def words(value: object) -> str:
    """A mapping as `key value` words (`entry closed, exit open`), anything else as text."""
    if isinstance(value, Mapping):
        return ", ".join(f"{k} {v}" for k, v in value.items()) or "-"
    return "-" if value is None or value == "" else str(value)


def pair(value: object) -> str:
    """An entry/exit mapping as `closed/open`."""
    if not isinstance(value, Mapping):
        return "-"
    return f"{value.get('entry', '-')}/{value.get('exit', '-')}"


def render_status(data: dict[str, object]) -> None:
    lanes = [lane for lane in _list(data.get("lanes")) if isinstance(lane, dict)]
    table = Table(title="lanes", title_justify="left")
    for column in ("lane", "state", "lights in/out", "barriers in/out", "deck", "alarms"):
        table.add_column(column)
    for lane in lanes:
        deck = f"{lane.get('deck_kg') or 0:,.0f} kg" if "deck_kg" in lane else "-"
        if lane.get("deck_vehicle"):
            deck += f" {lane['deck_vehicle']}"
        alarms = lane.get("alarms")
        table.add_row(
            str(lane.get("lane")),
            str(lane.get("state")),
            pair(lane.get("lights")),
            pair(lane.get("barriers")),
            deck,
            ", ".join(alarms) if isinstance(alarms, dict) and alarms else "-",
        )
    console = _console()
    console.print(table)
    for lane in lanes:
        _render_devices(console, lane)
        _render_approach(console, lane)
        _render_cameras(console, lane)


def approach_part(lane: Mapping[str, object]) -> Mapping[str, object]:
    """The lane's approach vehicle (`stage`, `tag`, the plate evidence), whether status
    carries it as a part of its own or as flat `approach_*` keys; missing keys stay so."""
    part = lane.get("approach")
    if isinstance(part, Mapping):
        return part
    return {"stage": part, **{key: lane.get(f"approach_{key}") for key in EVIDENCE}}


def _render_approach(console: Console, lane: Mapping[str, object]) -> None:
    """A vehicle held at the approach for `gatectl confirm|refuse`: what the officer checks."""
    part = approach_part(lane)
    if part.get("stage") not in DECIDABLE:
        return
    confidence = part.get("plate_confidence")
    read = f" ({confidence:.2f})" if isinstance(confidence, int | float) else ""
    console.print(
        f"{lane.get('lane')} approach {part['stage']}: tag {words(part.get('tag'))}, "
        f"plate {words(part.get('plate'))}{read}, expected {words(part.get('expected_plate'))}, "
        f"request {words(part.get('request_id'))}, snapshot {words(part.get('snapshot_sha256'))}"
    )


def _render_devices(console: Console, lane: dict[str, object]) -> None:
    devices = lane.get("devices")
    if not isinstance(devices, dict) or not devices:
        return
    table = Table(title=f"{lane.get('lane')} devices", title_justify="left")
    for column in ("device", "health", "last good data (UTC)", "last error"):
        table.add_column(column)
    for name, reported in devices.items():
        status = reported if isinstance(reported, dict) else {}
        health = "ok" if status.get("healthy") else "STALE"
        table.add_row(name, health, words(status.get("last_ok_at")), words(status.get("error")))
    console.print(table)
    if lane.get("latched_fault"):
        console.print(f"{lane.get('lane')} latched fault: {lane['latched_fault']}")


def _render_cameras(console: Console, lane: dict[str, object]) -> None:
    cameras = lane.get("cameras")
    if not isinstance(cameras, dict) or not cameras:
        return
    table = Table(title=f"{lane.get('lane')} cameras", title_justify="left")
    for column in ("camera", "side", "accepted", "duplicates", "dropped", "rejected"):
        table.add_column(column)
    table.add_column("snapshots not stored")
    table.add_column("last read")
    for name, reported in cameras.items():
        status = reported if isinstance(reported, dict) else {}
        rejected = status.get("rejected")
        refused = sum(rejected.values()) if isinstance(rejected, dict) else 0
        last = status.get("last_read")
        shown = f"{last.get('plate')} ({last.get('confidence')})" if isinstance(last, dict) else "-"
        counts = [str(status.get(key, 0)) for key in ("accepted", "duplicates", "dropped")]
        failures = str(status.get("snapshot_failures", 0))
        table.add_row(name, words(status.get("side")), *counts, str(refused), failures, shown)
    console.print(table)


def event_line(event: Mapping[str, object]) -> str:
    rest = " ".join(f"{k}={_scalar(v)}" for k, v in event.items() if k not in IDENTITY)
    seq = event.get("seq")
    return (
        f"{event.get('ts') or '-':<24} {event.get('lane')} #{seq if seq is not None else '-'} "
        f"{event.get('type')} {rest}"
    ).rstrip()


def _scalar(value: object) -> str:
    if isinstance(value, str):
        return value if value and " " not in value else json.dumps(value, ensure_ascii=False)
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def render_events(data: dict[str, object]) -> None:
    for event in _list(data.get("events")):
        if isinstance(event, dict):
            print(event_line(event))


def render_audit(data: dict[str, object]) -> None:
    for entry in _list(data.get("entries")):
        if isinstance(entry, dict):
            print(audit_line(entry))
    if "checked" in data:
        print(f"chain ok: {data['checked']} line(s) verified")


AUDIT_SHOWN = frozenset(
    {"ts", "user", "role", "uid", "pid", "prev", "lane", "action", "side", "tag", "reason"}
)


def audit_line(entry: Mapping[str, object]) -> str:
    """`TS WHO LANE ACTION [SIDE] [TAG] [reason=...] [other=...] -> OUTCOME`; an entry the
    reception of signed messages (clearance decisions, MQTT commands) wrote names
    `reception` as who."""
    what = " ".join(
        str(entry[k]) for k in ("lane", "action", "side", "tag") if entry.get(k) is not None
    )
    reason = f' reason="{entry["reason"]}"' if entry.get("reason") else ""
    rest = "".join(
        f" {k}={_scalar(v)}" for k, v in entry.items() if k not in AUDIT_SHOWN | {"outcome"}
    )
    who = f"{entry['user']} ({entry.get('role')})" if entry.get("user") else "reception"
    outcome = f" -> {_plain(entry['outcome'])}" if "outcome" in entry else ""
    return f"{entry.get('ts') or '-':<24} {who} {what}{reason}{rest}{outcome}"


def _plain(value: object) -> str:
    return value if isinstance(value, str) else _scalar(value)


def render_operation(data: dict[str, object]) -> None:
    """What the lane made of a command: accepted, or a no-op (and why), and its state."""
    outcome = f"no-op: {data['noop']}" if data.get("noop") else "accepted"
    if data.get("pending"):
        outcome += f" (pending: {data['pending']})"
    print(f"{outcome}; lane state now {data.get('state', '-')}")


def _list(value: object) -> list[object]:
    return value if isinstance(value, list) else []
