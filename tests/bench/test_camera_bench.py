"""The camera benchmark: its quick mode runs to the end over real sockets (the senders in
the listener's loop, then in a child process) and writes its JSON with every event counted
once, and its exactly-once check catches a lost event. A smoke test: no timing asserted."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import bench.common
from bench import camera
from devices.camera.codec import decode_event
from devices.camera.driver import CameraDriver
from devices.camera.listener import CameraAuth, CameraListener, ListenerSettings
from emulators.camera.snapshot import render_plate


def test_the_quick_run_counts_every_event_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bench.common, "RESULTS", tmp_path)  # not over a real run's figures
    camera.main(["--quick", "--cameras", "1", "4"])
    data = json.loads((tmp_path / "camera.json").read_text())
    assert {"machine", "args", "body_bytes", "decode_per_s", "runs"} <= data.keys()
    assert data["machine"]["cores"] >= 1
    assert data["body_bytes"] > 2000  # the snapshot is a real JPEG, not a stub
    runs = [(run["cameras"], run["senders"]) for run in data["runs"]]
    assert runs == [(1, "same loop"), (1, "process"), (4, "same loop"), (4, "process")]
    for run in data["runs"]:
        assert run["events_per_camera"] == data["args"]["events"] == 50
        assert run["sent"] == run["received"] == 50 * run["cameras"]
        assert run["events_per_s"] > 0
        assert 0 < run["latency_p50_ms"] <= run["latency_p99_ms"]
        assert (run["sender_cpu_us_per_event"] is None) == (run["senders"] == "same loop")
    assert data["4 cameras (process): events received / sent"] == "200/200"


def test_camera_ids_are_lanes_entry_then_exit() -> None:
    assert camera.camera_ids(3) == ["L01-entry", "L01-exit", "L02-entry"]
    assert len(set(camera.camera_ids(16))) == 16


def test_an_event_accepted_but_never_read_fails_the_run() -> None:
    cameras = (CameraAuth("L01-entry", secret=b"k"),)
    listener = CameraListener(ListenerSettings("127.0.0.1", 0, cameras))
    driver = CameraDriver(listener, "L01-entry")
    bodies = camera.make_bodies("L01-entry", 2, [render_plate("29C12345")])
    for _, body in bodies:  # as the listener takes them, without the socket
        listener.accepted["L01-entry"] += 1
        listener.queues["L01-entry"].put(decode_event("test", body))
    received = {bodies[0][0]: 0.0}  # the second is still in the queue
    with pytest.raises(AssertionError, match="left in the queue"):
        camera.verify(listener, {"L01-entry": driver}, {"L01-entry": bodies}, received)
