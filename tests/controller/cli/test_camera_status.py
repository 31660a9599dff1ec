"""`gatectl status` shows a lane's cameras: their counters and the last read."""

from __future__ import annotations

import pytest

from controller.cli.views import render_status


def test_a_lane_s_cameras_in_the_status(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # one row a camera, however wide the terminal
    camera = {
        "side": "entry",
        "accepted": 12,
        "duplicates": 3,
        "dropped": 1,
        "rejected": {"auth": 4, "event.plate": 2},
        "snapshot_failures": 5,
        "last_read": {"plate": "29C12345", "confidence": 0.93, "at": 10.0},
    }
    render_status({"lanes": [{"lane": "L01", "state": "idle", "cameras": {"L01-entry": camera}}]})
    out = capsys.readouterr().out
    assert "L01 cameras" in out
    (row,) = [line for line in out.splitlines() if "L01-entry" in line]
    cells = [cell.strip() for cell in row.strip("│ ").split("│")]
    assert cells == ["L01-entry", "entry", "12", "3", "1", "6", "5", "29C12345 (0.93)"]


def test_a_lane_without_cameras_shows_no_camera_table(capsys: pytest.CaptureFixture[str]) -> None:
    render_status({"lanes": [{"lane": "L01", "state": "idle", "cameras": {}}]})
    assert "cameras" not in capsys.readouterr().out
