"""How gatectl shows answers to a person: one line per event and audit entry, with the
wall-clock time first, and no Python reprs."""

from __future__ import annotations

import pytest

from controller.cli.views import audit_line, event_line, render_status


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


def _status_text(lane: dict[str, object], capsys: pytest.CaptureFixture[str]) -> str:
    render_status({"lanes": [{"lane": "L01", "state": "idle", **lane}]})
    return capsys.readouterr().out


def test_status_shows_what_an_officer_checks_before_confirm_or_refuse(
    capsys: pytest.CaptureFixture[str],
) -> None:
    nested = {
        "stage": "identity_mismatch",
        "tag": "E200",
        "plate": "29C12345",
        "plate_confidence": 0.934,
        "expected_plate": "29C12845",
        "request_id": "req-7",
    }
    assert (
        "L01 approach identity_mismatch: tag E200, plate 29C12345 (0.93), expected 29C12845, "
        "request req-7, snapshot -"
    ) in _status_text({"approach": nested}, capsys)
    flat: dict[str, object] = {"approach": "awaiting_confirmation", "approach_plate": "29C12345"}
    assert (
        "L01 approach awaiting_confirmation: tag -, plate 29C12345, expected -, request -, "
        "snapshot -"
    ) in _status_text(flat, capsys)
    assert "approach" not in _status_text({"approach": "waiting_tag"}, capsys)
