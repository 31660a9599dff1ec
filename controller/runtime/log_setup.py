"""Where the process's log records go, chosen once at start by where stdout goes.

Theory of operation: `configure_logging()` picks one output:
- under systemd, when $JOURNAL_STREAM names stdout's device:inode, journald's native
  protocol (journald.py; $GATEBRIDGE_JOURNAL_SOCKET overrides the socket, for tests and
  containers);
- on a terminal, human lines; otherwise (a pipe, a file, a container) JSON lines (logs.py).
The event loop never waits on a log output: a record is handed to a bounded queue and
written by a listener thread. A stuck output (a pipe nobody reads, a journald that
stalls) fills the queue; further records are dropped and counted, and the count is
logged once the output moves again. A control loop that blocked on its logs would miss
its safety deadlines (S7); a lost log line is the lesser harm.
pymodbus retries a missing device several times a second and says so at warning level;
its records are demoted to debug, and its logger is silenced above debug verbosity (the
device links log each device's connect, loss and recovery once per change).
The level comes from $GATEBRIDGE_LOG_LEVEL (debug, info, warning, error; default info).
"""

from __future__ import annotations

import copy
import logging
import logging.handlers
import os
import queue
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TextIO

from controller.errors import ConfigError
from controller.runtime.journald import JOURNAL_SOCKET, JournaldHandler, journal_stream_is
from controller.runtime.logs import HumanFormatter, JsonFormatter, record_exception

LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING}
LEVELS |= {"error": logging.ERROR}
CHATTY = ("pymodbus",)  # libraries whose warnings are retry chatter
QUEUE_RECORDS = 10_000
Records = queue.Queue[logging.LogRecord | None]  # None: the listener's stop sentinel
STOP_WAIT_S = 2.0


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


class _Handoff(logging.handlers.QueueHandler):
    """Hands records to the listener thread without ever waiting; drops when full."""

    def __init__(self, records: Records) -> None:
        super().__init__(records)
        self.dropped = 0

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        # the message and traceback are made here; the structured fields stay as they are
        prepared = copy.copy(record)
        prepared.msg, prepared.args = record.getMessage(), None
        prepared.exc_text, prepared.exc_info = record_exception(record), None
        return prepared

    def enqueue(self, record: logging.LogRecord) -> None:
        try:
            self.queue.put_nowait(record)
        except queue.Full:
            self.dropped += 1


class _Listener(logging.handlers.QueueListener):
    def __init__(self, records: Records, sink: logging.Handler) -> None:
        super().__init__(records, sink, respect_handler_level=True)
        self.records, self.sink, self.handoff, self.reported = records, sink, _Handoff(records), 0
        self.running = False

    def start(self) -> None:
        super().start()
        self.running = True

    def handle(self, record: logging.LogRecord) -> None:
        dropped = self.handoff.dropped
        if dropped > self.reported:
            note = f"{dropped - self.reported} log records dropped: the log output was stuck"
            self.reported = dropped
            super().handle(logging.LogRecord(__name__, logging.WARNING, "", 0, note, None, None))
        super().handle(record)

    def stop(self) -> None:
        """Write what is queued and end the thread, waiting a bounded time: a stuck output
        must not hold up the process's exit (the thread is a daemon)."""
        if not self.running:
            return
        self.running = False
        try:
            self.records.put(None, timeout=STOP_WAIT_S)
        except queue.Full:
            return
        if self._thread is not None:
            self._thread.join(STOP_WAIT_S)


@dataclass(slots=True)
class LogOutput:
    sink: logging.Handler
    _listener: _Listener

    def flush(self) -> None:
        """Wait until every record handed off so far is written."""
        self._listener.records.join()

    def stop(self) -> None:
        """Write what is queued, stop the thread, close the output (idempotent)."""
        if self._listener.running:
            self._listener.stop()
            self.sink.close()


_active: LogOutput | None = None


def configure_logging(
    stream: TextIO | None = None, environ: Mapping[str, str] | None = None
) -> LogOutput:
    """Send every log record of the process to the output that fits."""
    global _active  # noqa: PLW0603 - one logging setup per process, replaced as a whole
    stream = stream if stream is not None else sys.stdout
    environ = environ if environ is not None else os.environ
    level = log_level(environ)
    sink = _sink(stream, environ)
    sink.setLevel(level)
    listener = _Listener(Records(QUEUE_RECORDS), sink)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    if _active is not None:
        _active.stop()
    listener.handoff.setLevel(level)
    root.addHandler(listener.handoff)
    root.setLevel(level)
    _quiet_chatter(level)
    listener.start()
    _active = LogOutput(sink, listener)
    return _active


def _sink(stream: TextIO, environ: Mapping[str, str]) -> logging.Handler:
    if journal_stream_is(stream, environ):
        return JournaldHandler(environ.get("GATEBRIDGE_JOURNAL_SOCKET", JOURNAL_SOCKET))
    handler = logging.StreamHandler(stream)
    handler.setFormatter(HumanFormatter() if stream.isatty() else JsonFormatter())
    return handler


def _quiet_chatter(level: int) -> None:
    for name in CHATTY:
        chatty = logging.getLogger(name)
        chatty.setLevel(logging.DEBUG if level <= logging.DEBUG else logging.CRITICAL)
        for logger in (chatty, logging.getLogger(f"{name}.logging")):
            if not any(isinstance(f, _DemoteChatter) for f in logger.filters):
                logger.addFilter(_DemoteChatter())
