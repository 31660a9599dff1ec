"""The maintenance protocol's validation and the audit log's hash chain."""

from __future__ import annotations

import json
import threading
from pathlib import Path

from controller.maintenance.audit import AuditLog, verify
from controller.maintenance.protocol import AckRequest, HoldRequest, ModeRequest, parse_request
from controller.maintenance.server import to_operation


def test_requests_parse_into_typed_operations() -> None:
    parsed = parse_request(b'{"op": "mode", "lane": "L01", "mode": "maintenance"}')
    assert isinstance(parsed, ModeRequest)
    operation = to_operation(parsed)
    assert operation.action.value == "mode_maintenance"
    assert operation.lane == "L01"


def test_bad_requests_name_the_field_in_one_line() -> None:
    turbo = parse_request(b'{"op": "mode", "lane": "L01", "mode": "turbo"}')
    assert isinstance(turbo, str)
    assert turbo.startswith("mode.mode")
    assert parse_request(b'{"op": "hold", "lane": "L01", "action": "release"}') == (
        "hold.reason: Field required"
    )
    unknown = parse_request(b'{"op": "status", "extra": 1}')
    assert isinstance(unknown, str)
    assert "extra" in unknown
    assert "\n" not in unknown
    assert isinstance(parse_request(b"not json"), str)
    bad_lane = parse_request(b'{"op": "reset", "lane": "L 01/x", "reason": "after repair"}')
    assert isinstance(bad_lane, str)
    assert bad_lane.startswith("reset.lane")


def test_officer_requests_need_a_reason() -> None:
    ok = parse_request(
        b'{"op": "hold", "lane": "L01", "action": "reject", "reason": "seal broken"}'
    )
    assert isinstance(ok, HoldRequest)
    short = parse_request(b'{"op": "hold", "lane": "L01", "action": "reject", "reason": ""}')
    assert isinstance(short, str)


def test_the_audit_chain_holds_and_detects_an_edit(tmp_path: Path) -> None:
    path = tmp_path / "audit.log"
    log = AuditLog(path)
    for i in range(5):
        log.append({"action": "mode_auto", "n": i})
    assert verify(path) == (5, None)
    reopened = AuditLog(path)  # continues the chain after a restart
    reopened.append({"action": "reset", "n": 5})
    assert verify(path) == (6, None)
    lines = path.read_text().splitlines()
    edited = json.loads(lines[2])
    edited["action"] = "release"
    lines[2] = json.dumps(edited, sort_keys=True, separators=(",", ":"))
    path.write_text("\n".join(lines) + "\n")
    line, broken = verify(path)
    assert line == 4  # the line after the edited one no longer chains
    assert broken is not None


def test_a_deleted_line_breaks_the_chain(tmp_path: Path) -> None:
    path = tmp_path / "audit.log"
    log = AuditLog(path)
    for i in range(3):
        log.append({"n": i})
    lines = path.read_text().splitlines()
    path.write_text("\n".join([lines[0], lines[2]]) + "\n")
    assert verify(path)[0] == 2


def test_an_ack_request_names_the_alarm_and_needs_a_reason() -> None:
    parsed = parse_request(
        b'{"op": "ack", "lane": "L01", "alarm": "emergency", "reason": "on my way"}'
    )
    assert isinstance(parsed, AckRequest)
    operation = to_operation(parsed)
    assert operation.action.value == "ack"
    assert operation.args == {"alarm": "emergency"}
    bad = parse_request(b'{"op": "ack", "lane": "L01", "alarm": "Drop table", "reason": "why"}')
    assert isinstance(bad, str)
    assert bad.startswith("ack.alarm")
    assert parse_request(b'{"op": "ack", "lane": "L01", "alarm": "emergency"}') == (
        "ack.reason: Field required"
    )


def test_entries_carry_their_time_and_threads_keep_the_chain(tmp_path: Path) -> None:
    path = tmp_path / "audit.log"
    log = AuditLog(path, wall_clock=lambda: 1_800_000_000.0)
    # the socket appends on the loop while the reception appends from worker threads
    workers = [
        threading.Thread(target=lambda w=w: [log.append({"w": w, "n": n}) for n in range(25)])
        for w in range(4)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert verify(path) == (100, None)
    first = json.loads(path.read_text().splitlines()[0])
    assert first["ts"] == "2027-01-15T08:00:00.000Z"
