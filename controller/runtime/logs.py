"""The controller's logs: one logger tree, three outputs, chosen by where stdout goes.

Theory of operation: runtime code logs through `log_event(logger, level, event, message,
lane=..., device=..., **fields)`: `event` is a past-tense fact (`device_lost`), the
fields ride on the record. `configure_logging()` picks the output once, at start:
- under systemd, when $JOURNAL_STREAM names stdout's device:inode, straight to journald's
  native protocol (one datagram of KEY=value fields to /run/systemd/journal/socket:
  MESSAGE, PRIORITY, SYSLOG_IDENTIFIER=gatebridge, LANE, DEVICE, EVENT and each field
  upper-cased), so `journalctl -u gatebridge LANE=L01 EVENT=device_lost` selects;
- on a terminal, one human line per record;
- otherwise (a pipe, a file, a container) JSON lines: ts (UTC, ISO 8601), level, lane,
  device, event, message, fields, logger.
pymodbus retries a missing device several times a second and says so at warning level;
its records are demoted to debug (the controller logs each device's connect, loss and
recovery itself, once per change), and its logger is silenced above debug verbosity.
The level comes from $GATEBRIDGE_LOG_LEVEL (debug, info, warning, error; default info).
"""

from __future__ import annotations

import errno
import fcntl
import json
import logging
import os
import socket
import struct
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TextIO

from controller.core.commands import PublishEvent
from controller.errors import ConfigError

JOURNAL_SOCKET = "/run/systemd/journal/socket"
IDENTIFIER = "gatebridge"
LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING}
LEVELS |= {"error": logging.ERROR}
PRIORITY = {logging.DEBUG: 7, logging.INFO: 6, logging.WARNING: 4, logging.ERROR: 3}
CHATTY = ("pymodbus",)  # libraries whose warnings are retry chatter


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


def _fields(record: logging.LogRecord) -> Mapping[str, object]:
    fields = getattr(record, "fields", None)
    return fields if isinstance(fields, Mapping) else {}


def _utc(record: logging.LogRecord) -> str:
    moment = datetime.fromtimestamp(record.created, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "ts": _utc(record),
            "level": record.levelname.lower(),
            "lane": getattr(record, "lane", None),
            "device": getattr(record, "device", None),
            "event": getattr(record, "event", None),
            "message": record.getMessage(),
            "fields": dict(_fields(record)),
            "logger": record.name,
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str, ensure_ascii=False)


def _where(record: logging.LogRecord) -> str:
    """'L01 io: ', what a person reads first; '' for records of no lane."""
    named = [getattr(record, key, None) for key in ("lane", "device")]
    where = " ".join(str(v) for v in named if v)
    return f"{where}: " if where else ""


class HumanFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        extra = {k: v for k, v in _fields(record).items() if str(v) not in message}
        fields = " ".join(f"{k}={v}" for k, v in extra.items())
        text = f"{_utc(record)} {record.levelname:<7} {_where(record)}{message}"
        text += f" ({fields})" if fields else ""
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        return text


class JournaldHandler(logging.Handler):
    """journald's native protocol, standard library only (systemd.journal-fields(7))."""

    def __init__(self, path: str = JOURNAL_SOCKET, level: int = logging.NOTSET) -> None:
        super().__init__(level)
        self.path = path
        self.socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            # journalctl shows MESSAGE alone: it names its lane and device itself
            self._send(journal_entry(record, _where(record) + self.format(record)))
        except Exception:  # logging must never raise into the caller
            self.handleError(record)

    def _send(self, entry: bytes) -> None:
        try:
            self.socket.sendto(entry, self.path)
        except OSError as error:
            if error.errno != errno.EMSGSIZE:
                raise
            # too big for one datagram: journald takes it as a sealed memfd instead
            self._send_memfd(entry)

    def _send_memfd(self, entry: bytes) -> None:
        fd = os.memfd_create("gatebridge-log", os.MFD_ALLOW_SEALING)
        try:
            os.write(fd, entry)
            seals = fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_GROW | fcntl.F_SEAL_WRITE | fcntl.F_SEAL_SEAL
            fcntl.fcntl(fd, fcntl.F_ADD_SEALS, seals)
            rights = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, struct.pack("i", fd))]
            self.socket.sendmsg([], rights, 0, self.path)
        finally:
            os.close(fd)

    def close(self) -> None:
        self.socket.close()
        super().close()


def journal_entry(record: logging.LogRecord, message: str) -> bytes:
    fields: dict[str, object] = {
        "MESSAGE": message,
        "PRIORITY": PRIORITY.get(record.levelno, 2 if record.levelno > logging.ERROR else 6),
        "SYSLOG_IDENTIFIER": IDENTIFIER,
        "LOGGER": record.name,
        "CODE_FILE": record.pathname,
        "CODE_LINE": record.lineno,
        "CODE_FUNC": record.funcName,
    }
    for key in ("lane", "device", "event"):
        if getattr(record, key, None) is not None:
            fields[key.upper()] = getattr(record, key)
    for key, value in _fields(record).items():
        name = _journal_name(key)
        fields.setdefault(f"F_{name}" if name in fields else name, value)
    return b"".join(_journal_field(k, str(v)) for k, v in fields.items())


def _journal_name(key: str) -> str:
    """A valid journal field name: A-Z, 0-9 and '_', not leading '_' (trusted fields)
    nor a digit, at most 64 characters."""
    name = "".join(c if c.isascii() and c.isalnum() else "_" for c in key.upper()).lstrip("_")
    return (f"F_{name}" if not name or name[0].isdigit() else name)[:64]


def _journal_field(key: str, value: str) -> bytes:
    data = value.encode("utf-8", errors="replace")
    if b"\n" not in data:
        return key.encode() + b"=" + data + b"\n"
    return key.encode() + b"\n" + struct.pack("<Q", len(data)) + data + b"\n"


def journal_stream_is(stream: TextIO, environ: Mapping[str, str]) -> bool:
    """True when `stream` is the stream systemd connected to the journal for us."""
    expected = environ.get("JOURNAL_STREAM", "")
    try:
        st = os.fstat(stream.fileno())
    except (OSError, ValueError):
        return False
    return expected == f"{st.st_dev}:{st.st_ino}"


def log_level(environ: Mapping[str, str]) -> int:
    name = environ.get("GATEBRIDGE_LOG_LEVEL", "info").strip().lower()
    if name not in LEVELS:
        raise ConfigError("GATEBRIDGE_LOG_LEVEL", f"{name!r}: one of {', '.join(LEVELS)}")
    return LEVELS[name]


class _DemoteChatter(logging.Filter):
    """A chatty library's warnings and errors are retries: debug, not news."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.CRITICAL:
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return True


def configure_logging(
    stream: TextIO | None = None, environ: Mapping[str, str] | None = None
) -> logging.Handler:
    """Send every log record of the process to the output that fits; returns the handler."""
    stream = stream if stream is not None else sys.stdout
    environ = environ if environ is not None else os.environ
    level = log_level(environ)
    handler: logging.Handler
    if journal_stream_is(stream, environ):
        handler = JournaldHandler(environ.get("GATEBRIDGE_JOURNAL_SOCKET", JOURNAL_SOCKET))
    else:
        handler = logging.StreamHandler(stream)
        handler.setFormatter(HumanFormatter() if stream.isatty() else JsonFormatter())
    handler.setLevel(level)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name in CHATTY:
        chatty = logging.getLogger(name)
        chatty.setLevel(logging.DEBUG if level <= logging.DEBUG else logging.CRITICAL)
        for logger in (chatty, logging.getLogger(f"{name}.logging")):
            if not any(isinstance(f, _DemoteChatter) for f in logger.filters):
                logger.addFilter(_DemoteChatter())
    return handler
