"""How gatectl shows answers to a person: one line per event and audit entry, with the
wall-clock time first, and no Python reprs."""

from __future__ import annotations

from controller.cli.views import audit_line, event_line


def test_an_event_line_leads_with_time_lane_and_seq() -> None:
    event = {
        "lane": "L01",
        "type": "weight_captured",
        "seq": 41,
        "event_id": "0f3c",
        "ts": "2027-01-15T08:00:00.000Z",
        "gross_kg": 24500,
        "note": "two words",
    }
    assert event_line(event) == (
        '2027-01-15T08:00:00.000Z L01 #41 weight_captured gross_kg=24500 note="two words"'
    )


def test_audit_lines_for_an_operator_and_for_the_reception() -> None:
    operator = {
        "ts": "2027-01-15T08:00:00.000Z",
        "lane": "L01",
        "action": "barrier_close",
        "side": "entry",
        "tag": None,
        "reason": "",
        "user": "tech1",
        "role": "technician",
        "uid": 1001,
        "pid": 77,
        "prev": "ab",
        "outcome": "no-op: entry barrier already closed",
    }
    assert audit_line(operator) == (
        "2027-01-15T08:00:00.000Z tech1 (technician) L01 barrier_close entry "
        "-> no-op: entry barrier already closed"
    )
    received = {
        "ts": "2027-01-15T08:00:01.000Z",
        "lane": "L01",
        "action": "command_accepted",
        "command": "release",
        "outcome": {"accepted": True},
        "prev": "cd",
    }
    assert audit_line(received) == (
        "2027-01-15T08:00:01.000Z reception L01 command_accepted command=release "
        '-> {"accepted": true}'
    )
