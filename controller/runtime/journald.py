"""journald's native protocol, standard library only (systemd.journal-fields(7)).

Theory of operation: one record is one datagram of fields to journald's socket
(/run/systemd/journal/socket): `KEY=value` lines, or `KEY`, a little-endian 64-bit
length and the bytes for values with a newline. MESSAGE (named with its lane and device:
journalctl shows it alone), PRIORITY (syslog), SYSLOG_IDENTIFIER=gatebridge, LANE,
DEVICE, EVENT, and each field upper-cased (ENDPOINT, REASON, ...), so `journalctl -u
gatebridge LANE=L01 EVENT=device_lost` selects. A record too big for a datagram goes as
a sealed memfd, as journald expects. `journal_stream_is` tells whether systemd connected
a stream to the journal ($JOURNAL_STREAM is its device:inode).
"""

from __future__ import annotations

import errno
import fcntl
import logging
import os
import socket
import struct
from collections.abc import Mapping
from typing import TextIO

from controller.runtime.logs import record_fields, record_where

JOURNAL_SOCKET = "/run/systemd/journal/socket"
IDENTIFIER = "gatebridge"
PRIORITY = {logging.DEBUG: 7, logging.INFO: 6, logging.WARNING: 4, logging.ERROR: 3}


class JournaldHandler(logging.Handler):
    """journald's native protocol, standard library only (systemd.journal-fields(7))."""

    def __init__(self, path: str = JOURNAL_SOCKET, level: int = logging.NOTSET) -> None:
        super().__init__(level)
        self.path = path
        self.socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            # journalctl shows MESSAGE alone: it names its lane and device itself
            self._send(journal_entry(record, record_where(record) + self.format(record)))
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
    for key, value in record_fields(record).items():
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
