"""The controller's log records and how they read: one logger tree, structured records.

Theory of operation: runtime code logs through `log_event(logger, level, event, message,
lane=..., device=..., fields=...)`: `event` is a past-tense fact (`device_lost`), the
lane, device and fields ride on the record. Formatters turn a record into a JSON line (ts
UTC ISO 8601, level, lane, device, event, message, fields, logger) or a human line;
journald.py turns it into journal fields; log_setup.py picks the output. Lane events
(`log_lane_event`, a lane listener) are logged with their lane: alarms and a change to
`fault` as warnings, the rest at info; device health is left to the device links
(device_links.py), which tell it once per change with the endpoint.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from datetime import UTC, datetime

from controller.core.commands import PublishEvent


def log_event(
    logger: logging.Logger,
    level: int,
    event: str,
    message: str,
    *,
    lane: str | None = None,
    device: str | None = None,
    fields: Mapping[str, object] | None = None,
) -> None:
    extra = {"lane": lane, "device": device, "event": event, "fields": dict(fields or {})}
    logger.log(level, message, extra=extra)


LANE_EVENTS = logging.getLogger("controller.runtime.events")


# told once per change, with the endpoint, by the device links (device_links.py)
NOT_LOGGED = frozenset({"device_healthy", "device_unhealthy"})


def log_lane_event(lane: str, event: PublishEvent) -> None:
    """A lane listener: each lane event as a log line (alarms and faults as warnings)."""
    if event.type in NOT_LOGGED:
        return
    data = dict(event.data)
    device = data.pop("device", None)
    data.pop("lane", None)
    faulted = event.type == "state_changed" and data.get("state") == "fault"
    level = logging.WARNING if event.type == "alarm" or faulted else logging.INFO
    if event.type == "alarm":
        text = f"alarm {data.get('code')}: {data.get('message')}"
    elif event.type == "state_changed":
        text = f"state {data.get('previous')} -> {data.get('state')}"
    else:
        details = ", ".join(f"{k} {v}" for k, v in data.items())
        text = event.type.replace("_", " ") + (f": {details}" if details else "")
    shown = None if device is None else str(device)
    log_event(LANE_EVENTS, level, event.type, text, lane=lane, device=shown, fields=data)


def record_fields(record: logging.LogRecord) -> Mapping[str, object]:
    fields = getattr(record, "fields", None)
    return fields if isinstance(fields, Mapping) else {}


def record_utc(record: logging.LogRecord) -> str:
    moment = datetime.fromtimestamp(record.created, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "ts": record_utc(record),
            "level": record.levelname.lower(),
            "lane": getattr(record, "lane", None),
            "device": getattr(record, "device", None),
            "event": getattr(record, "event", None),
            "message": record.getMessage(),
            "fields": dict(record_fields(record)),
            "logger": record.name,
        }
        if exception := record_exception(record):
            line["exception"] = exception
        return json.dumps(line, default=str, ensure_ascii=False)


def record_where(record: logging.LogRecord) -> str:
    """'L01 io: ', what a person reads first; '' for records of no lane."""
    named = [getattr(record, key, None) for key in ("lane", "device")]
    where = " ".join(str(v) for v in named if v)
    return f"{where}: " if where else ""


class HumanFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        extra = {k: v for k, v in record_fields(record).items() if str(v) not in message}
        fields = " ".join(f"{k}={v}" for k, v in extra.items())
        text = f"{record_utc(record)} {record.levelname:<7} {record_where(record)}{message}"
        text += f" ({fields})" if fields else ""
        if exception := record_exception(record):
            text += "\n" + exception
        return text


def record_exception(record: logging.LogRecord) -> str | None:
    """The traceback, formatted once: records cross to the output thread pre-formatted."""
    if record.exc_info and not record.exc_text:
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    return record.exc_text or None
