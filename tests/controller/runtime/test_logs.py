"""The controller's log outputs (runtime/logs.py): JSON lines, human lines, journald's
native protocol over a real unix datagram socket, and pymodbus's chatter kept at debug."""

from __future__ import annotations

import fcntl
import io
import json
import logging
import os
import socket
import struct
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from controller.core.commands import PublishEvent
from controller.core.types import Device
from controller.errors import ConfigError
from controller.runtime.device_links import DeviceLinks
from controller.runtime.journald import JournaldHandler, journal_stream_is
from controller.runtime.log_setup import QUEUE_RECORDS, configure_logging, log_level
from controller.runtime.logs import HumanFormatter, JsonFormatter, log_event, log_lane_event


def record(message: str = "io lost", **extra: object) -> logging.LogRecord:
    made = logging.LogRecord("controller.test", logging.WARNING, __file__, 7, message, (), None)
    made.created = 1_800_000_000.25  # 2027-01-15T08:00:00.250Z
    made.__dict__.update(extra)
    return made


def parse_journal(datagram: bytes) -> dict[str, str]:
    """journald's native format: KEY=value lines, or KEY\\n + u64 LE length + bytes."""
    fields, at = {}, 0
    while at < len(datagram):
        end = datagram.index(b"\n", at)
        line = datagram[at:end]
        if b"=" in line:
            key, _, value = line.partition(b"=")
            at = end + 1
        else:
            key, (size,) = line, struct.unpack("<Q", datagram[end + 1 : end + 9])
            value = datagram[end + 9 : end + 9 + size]
            assert datagram[end + 9 + size : end + 10 + size] == b"\n"
            at = end + 10 + size
        fields[key.decode()] = value.decode()
    return fields


@pytest.fixture(autouse=True)
def restored_logging() -> Iterator[None]:
    """configure_logging() sets up the whole process: put it back after each test."""
    root, chatty = logging.getLogger(), logging.getLogger("pymodbus")
    handlers, level, chatty_level = list(root.handlers), root.level, chatty.level
    yield
    configure_logging(io.StringIO(), {}).stop()  # ends the test's listener thread
    for handler in list(root.handlers):
        root.removeHandler(handler)
        if handler not in handlers:
            handler.close()
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)
    chatty.setLevel(chatty_level)


@pytest.fixture
def journal_socket(tmp_path: Path) -> Iterator[tuple[socket.socket, str]]:
    path = str(tmp_path / "journal.sock")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    server.bind(path)
    server.settimeout(5)
    yield server, path
    server.close()


def test_a_json_line_carries_utc_time_level_lane_device_event_and_fields() -> None:
    line = JsonFormatter().format(
        record(lane="L01", device="io", event="device_lost", fields={"endpoint": "tcp:502"})
    )
    assert json.loads(line) == {
        "ts": "2027-01-15T08:00:00.250Z",
        "level": "warning",
        "lane": "L01",
        "device": "io",
        "event": "device_lost",
        "message": "io lost",
        "fields": {"endpoint": "tcp:502"},
        "logger": "controller.test",
    }
    plain = json.loads(JsonFormatter().format(record("from a library")))
    assert (plain["lane"], plain["event"], plain["fields"]) == (None, None, {})


def test_a_human_line_reads_left_to_right() -> None:
    fields = {"down_s": 1.5, "endpoint": "modbus-tcp://10.0.1.21:502"}
    line = HumanFormatter().format(
        record("lost at modbus-tcp://10.0.1.21:502", lane="L01", device="io", fields=fields)
    )
    # a field the message already says is not said twice
    shown = "WARNING L01 io: lost at modbus-tcp://10.0.1.21:502 (down_s=1.5)"
    assert line == f"2027-01-15T08:00:00.250Z {shown}"


def test_journald_gets_one_datagram_of_fields(journal_socket: tuple[socket.socket, str]) -> None:
    server, path = journal_socket
    handler = JournaldHandler(path)
    fields = {"endpoint": "modbus-tcp://10.0.1.21:502", "reason": "no data\nfor 600 ms"}
    fields |= {"message": "a field named as journald's own", "_trusted": "1", "2nd": "x"}
    handler.handle(record(lane="L01", device="io", event="device_lost", fields=fields))
    got = parse_journal(server.recv(65536))
    handler.close()
    assert got["MESSAGE"] == "L01 io: io lost"  # what journalctl shows, on its own
    assert (got["PRIORITY"], got["SYSLOG_IDENTIFIER"]) == ("4", "gatebridge")
    assert (got["LANE"], got["DEVICE"], got["EVENT"]) == ("L01", "io", "device_lost")
    assert got["ENDPOINT"] == "modbus-tcp://10.0.1.21:502"
    assert got["REASON"] == "no data\nfor 600 ms"  # a newline: the length-prefixed form
    assert (got["F_MESSAGE"], got["TRUSTED"], got["F_2ND"]) == (fields["message"], "1", "x")


def test_journald_takes_a_message_too_big_for_a_datagram_as_a_sealed_memfd(
    journal_socket: tuple[socket.socket, str],
) -> None:
    server, path = journal_socket
    handler = JournaldHandler(path)
    handler.handle(record("x" * 300_000, lane="L01"))
    _, ancillary, _, _ = server.recvmsg(1024, socket.CMSG_SPACE(4))
    handler.close()
    (_level, _type, data) = ancillary[0]
    fd = struct.unpack("i", data[:4])[0]
    seals = fcntl.fcntl(fd, fcntl.F_GET_SEALS)
    assert seals & fcntl.F_SEAL_WRITE  # journald insists on a sealed memfd
    assert seals & fcntl.F_SEAL_SHRINK
    with os.fdopen(fd, "rb") as memfd:
        got = parse_journal(os.pread(memfd.fileno(), 1 << 20, 0))  # journald maps it whole
    assert got["MESSAGE"] == "L01: " + "x" * 300_000
    assert got["LANE"] == "L01"


def test_the_output_follows_where_stdout_goes(tmp_path: Path) -> None:
    with (tmp_path / "out").open("w") as stdout:
        st = os.fstat(stdout.fileno())
        assert journal_stream_is(stdout, {"JOURNAL_STREAM": f"{st.st_dev}:{st.st_ino}"})
        assert not journal_stream_is(stdout, {"JOURNAL_STREAM": f"{st.st_dev}:1"})
        assert not journal_stream_is(stdout, {})
    assert isinstance(configure_logging(io.StringIO(), {}).sink.formatter, JsonFormatter)
    with (tmp_path / "out").open("w") as stdout:
        st = os.fstat(stdout.fileno())
        journald = configure_logging(stdout, {"JOURNAL_STREAM": f"{st.st_dev}:{st.st_ino}"})
    assert isinstance(journald.sink, JournaldHandler)
    assert len(logging.getLogger().handlers) == 1  # the previous output replaced, not added


def test_pymodbus_warnings_are_debug_chatter() -> None:
    """At info: one line for a device that never answers, none of pymodbus's retries."""
    out = io.StringIO()
    output = configure_logging(out, {"GATEBRIDGE_LOG_LEVEL": "info"})
    for _ in range(50):
        logging.getLogger("pymodbus.logging").warning("Failed to connect [Errno 111]")
    links = DeviceLinks("L01", {Device.IO: "modbus-tcp://127.0.0.1:15020"})
    for now in range(50):
        links.failed(Device.IO, "cannot connect", float(now))
    output.flush()
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [(x["event"], x["device"], x["lane"]) for x in lines] == [
        ("device_unreachable", "io", "L01")
    ]
    assert lines[0]["fields"]["endpoint"] == "modbus-tcp://127.0.0.1:15020"
    debug = io.StringIO()
    output = configure_logging(debug, {"GATEBRIDGE_LOG_LEVEL": "debug"})
    logging.getLogger("pymodbus.logging").warning("Failed to connect [Errno 111]")
    output.flush()
    shown = json.loads(debug.getvalue())
    assert (shown["level"], shown["logger"]) == ("debug", "pymodbus.logging")


def test_a_link_is_logged_once_per_change(caplog: pytest.LogCaptureFixture) -> None:
    links = DeviceLinks("L01", {Device.SCALE: "serial:///dev/ttyS1"})
    caplog.set_level(logging.INFO)
    for now in range(3):
        links.ok(Device.SCALE, float(now))
    links.lost(Device.SCALE, "no good data for 600 ms", 3.0)
    for now in range(4, 8):
        links.failed(Device.SCALE, "timeout", float(now))
        links.lost(Device.SCALE, "still silent", float(now))
    links.ok(Device.SCALE, 9.5)
    links.ok(Device.SCALE, 9.6)
    events = [(r.__dict__["event"], r.__dict__["fields"].get("down_s")) for r in caplog.records]
    assert events == [("device_connected", None), ("device_lost", None), ("device_recovered", 6.5)]


def test_lane_events_are_logged_with_their_lane(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    log_lane_event("L01", PublishEvent("alarm", {"code": "data_stale", "message": "stale"}))
    log_lane_event("L01", PublishEvent("state_changed", {"previous": "auto", "state": "fault"}))
    log_lane_event("L01", PublishEvent("device_unhealthy", {"device": "io", "reason": "silent"}))
    log_lane_event("L01", PublishEvent("safety_reopen", {"side": "entry"}))
    got = [(r.levelname, r.getMessage()) for r in caplog.records]
    assert got == [  # device health: the device links' lines already say it, once
        ("WARNING", "alarm data_stale: stale"),
        ("WARNING", "state auto -> fault"),
        ("INFO", "safety reopen: side entry"),
    ]
    assert {r.__dict__["lane"] for r in caplog.records} == {"L01"}


def test_the_level_comes_from_the_environment_and_is_validated() -> None:
    assert log_level({}) == logging.INFO
    assert log_level({"GATEBRIDGE_LOG_LEVEL": "DEBUG"}) == logging.DEBUG
    with pytest.raises(ConfigError, match="GATEBRIDGE_LOG_LEVEL: 'loud': one of debug"):
        log_level({"GATEBRIDGE_LOG_LEVEL": "loud"})


def test_log_event_keeps_fields_apart_from_its_own_arguments(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    fields = {"message": "a field named message", "level": 3}
    log_event(logging.getLogger("t"), logging.INFO, "alarm", "text", lane="L01", fields=fields)
    assert caplog.records[0].__dict__["fields"] == fields


def test_a_stuck_output_never_blocks_the_caller(tmp_path: Path) -> None:
    """stdout a pipe nobody reads (64 KiB and it is full): logging still returns at once;
    what did not fit is dropped, and the count is told once the pipe is read again."""
    read_end, write_end = os.pipe()
    stdout = os.fdopen(write_end, "w")
    output = configure_logging(stdout, {})
    logger = logging.getLogger("controller.test.stuck")

    def flood() -> None:
        for n in range(QUEUE_RECORDS + 2_000):  # ~3 MB: far past the pipe and the queue
            log_event(logger, logging.INFO, "flooded", "x" * 200, lane="L01", fields={"n": n})

    caller = threading.Thread(target=flood, daemon=True)
    caller.start()
    caller.join(timeout=30)
    assert not caller.is_alive()  # the caller never waited on the stuck pipe
    told: list[str] = []
    reader = threading.Thread(target=lambda: told.extend(os.fdopen(read_end).readlines()))
    reader.start()
    output.flush()  # the output moves again: the queue drains, the drops are told
    logger.info("after")
    output.stop()
    stdout.close()
    reader.join(timeout=30)
    notes = [json.loads(line)["message"] for line in told if "dropped" in line]
    assert len(notes) == 1
    assert notes[0].endswith("log records dropped: the log output was stuck")
    kept = len({json.loads(line)["fields"]["n"] for line in told if '"flooded"' in line})
    assert kept + int(notes[0].split()[0]) == QUEUE_RECORDS + 2_000
    assert json.loads(told[-1])["message"] == "after"  # and logging goes on
