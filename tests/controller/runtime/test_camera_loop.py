"""The lane's camera loop: each read's snapshot stored under its sha256, then the read fed
to the lane as PlateReported; a snapshot that cannot be stored does not lose the read.

The core does not handle PlateReported yet (the lead's part of issue 15), so the lane's
`feed` is a recorder here: the loop's own job is what is checked. One test runs the whole
path over the real HTTP listener: the emulator's EventPoster -> listener -> driver ->
loop -> store and feed.
"""

from __future__ import annotations

import asyncio
import dataclasses
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from controller.config.models import GatewayConfig
from controller.core.commands import Command
from controller.core.events import Event, PlateReported
from controller.core.types import Side
from controller.errors import ConfigError, DeviceBroken
from controller.journal.snapshots import SnapshotError, SnapshotStore, snapshot_hash
from controller.runtime.build import camera_drivers, listening
from controller.runtime.camera import CameraLoop
from controller.runtime.lane import LaneRuntime
from controller.runtime.metrics import GatewayMetrics
from devices.camera.codec import PlateRead, encode_event
from devices.camera.driver import CameraDriver
from devices.camera.listener import CameraAuth, CameraListener, ListenerSettings
from emulators.camera.interface import EventPoster
from emulators.camera.snapshot import render_plate
from tests.controller.runtime.harness import EmulatedLane
from tests.controller.runtime.test_metrics import scraped, value
from tests.controller.test_config_walk import base_config

SECRET = b"entry-secret-0123456789"
JPEG = bytes.fromhex("FFD8FFE000104A46494600010100000100010000FFD9")
WAIT_S = 5.0


def read(event_id: str = "e1", plate: str = "29C12345", jpeg: bytes = JPEG) -> PlateRead:
    return PlateRead(
        camera="L01-entry",
        event_id=event_id,
        plate=plate,
        country="VN",
        confidence=0.93,
        timestamp=datetime(2026, 12, 3, 8, 15, 30, tzinfo=UTC),
        snapshot_jpeg=jpeg,
    )


class Recorder:
    """The lane as the loop sees it: a clock and a feed that records what it is given."""

    def __init__(self) -> None:
        self.fed: list[Event] = []
        self._arrived = asyncio.Event()

    def now(self) -> float:
        return 42.0

    def feed(self, event: Event) -> list[Command]:
        self.fed.append(event)
        self._arrived.set()
        return []

    async def until(self, count: int) -> None:
        async with asyncio.timeout(WAIT_S):
            while len(self.fed) < count:
                self._arrived.clear()
                await self._arrived.wait()


class BrokenStore:
    def __init__(self) -> None:
        self.attempts = 0

    async def put(self, sha256: str, jpeg: bytes) -> object:
        self.attempts += 1
        raise SnapshotError(f"snapshot {sha256}: No space left on device")


class StuckStore:
    async def put(self, sha256: str, jpeg: bytes) -> object:
        await asyncio.get_running_loop().create_future()  # a disk that never answers
        return None


def listener() -> CameraListener:
    cameras = (CameraAuth("L01-entry", secret=SECRET),)
    return CameraListener(ListenerSettings("127.0.0.1", 0, cameras), name="L01.camera")


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SnapshotStore]:
    opened = SnapshotStore(tmp_path / "snapshots")
    yield opened
    await opened.close()


async def running(loop: CameraLoop) -> asyncio.Task[None]:
    return asyncio.create_task(loop.run(), name="camera")


async def stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def test_a_read_is_stored_then_fed_with_its_hash(store: SnapshotStore) -> None:
    source, lane = listener(), Recorder()
    loop = CameraLoop("L01", lane, Side.ENTRY, CameraDriver(source, "L01-entry"), store)
    task = await running(loop)
    try:
        source.queues["L01-entry"].put(read())
        await lane.until(1)
    finally:
        await stop(task)
    sha = snapshot_hash(JPEG)
    assert lane.fed == [
        PlateReported(42.0, Side.ENTRY, "L01-entry", "e1", "29C12345", "VN", 0.93, sha)
    ]
    assert store.path_for(sha).read_bytes() == JPEG
    assert loop.status()["last_read"] == {"plate": "29C12345", "confidence": 0.93, "at": 42.0}


async def test_a_resent_read_is_fed_once_and_counted(store: SnapshotStore) -> None:
    source, lane = listener(), Recorder()
    loop = CameraLoop("L01", lane, Side.ENTRY, CameraDriver(source, "L01-entry"), store)
    task = await running(loop)
    try:
        for event_id in ("e1", "e1", "e2"):
            source.queues["L01-entry"].put(read(event_id))
        await lane.until(2)
    finally:
        await stop(task)
    assert [e.event_id for e in lane.fed if isinstance(e, PlateReported)] == ["e1", "e2"]
    assert loop.status()["duplicates"] == 1


async def test_a_snapshot_that_cannot_be_stored_does_not_lose_the_read(
    caplog: pytest.LogCaptureFixture,
) -> None:
    source, lane, broken = listener(), Recorder(), BrokenStore()
    loop = CameraLoop("L01", lane, Side.ENTRY, CameraDriver(source, "L01-entry"), broken)
    task = await running(loop)
    try:
        for n in range(3):
            source.queues["L01-entry"].put(read(f"e{n}", jpeg=render_plate(f"29C1234{n}")))
        await lane.until(3)
    finally:
        await stop(task)
    hashes = [e.snapshot_sha256 for e in lane.fed if isinstance(e, PlateReported)]
    assert hashes == [snapshot_hash(render_plate(f"29C1234{n}")) for n in range(3)]
    assert (broken.attempts, loop.snapshot_failures) == (3, 3)
    assert loop.status()["snapshot_failures"] == 3
    logged = [r for r in caplog.records if "not stored" in r.getMessage()]
    assert len(logged) == 1, "a run of failures is logged once"
    assert "No space left" in logged[0].getMessage()


@pytest.mark.looptime
async def test_a_disk_that_never_answers_delays_a_read_by_the_write_limit_only() -> None:
    source, lane = listener(), Recorder()
    loop = CameraLoop("L01", lane, Side.ENTRY, CameraDriver(source, "L01-entry"), StuckStore())
    task = await running(loop)
    started = asyncio.get_running_loop().time()
    try:
        source.queues["L01-entry"].put(read())
        await lane.until(1)
    finally:
        await stop(task)
    assert asyncio.get_running_loop().time() - started == pytest.approx(2.0, abs=0.1)
    assert loop.snapshot_failures == 1


def camera_config(tmp: Path, **camera: object) -> GatewayConfig:
    (tmp / "entry.secret").write_text(SECRET.decode() + "\n")
    tree = base_config(tmp)
    tree["lanes"][0]["camera"] = {
        "listen": "127.0.0.1:0",
        "entry": {"id": "L01-entry", "secret_file": str(tmp / "entry.secret")},
        **camera,
    }
    return GatewayConfig.model_validate(tree)


async def test_an_event_posted_over_http_reaches_the_feed_and_the_store(
    tmp_path: Path, store: SnapshotStore
) -> None:
    """The configured listener, as `gatectl run` starts it, and the emulator's poster."""
    lane_config = camera_config(tmp_path).lanes[0]
    listeners, drivers = camera_drivers(lane_config)
    setup = dataclasses.replace(EmulatedLane().runtime.setup, listeners=listeners)
    jpeg = render_plate("29C12345")
    lane = Recorder()
    async with listening([setup]):
        port = listeners[0].port  # type: ignore[attr-defined]
        loop = CameraLoop("L01", lane, Side.ENTRY, drivers[Side.ENTRY], store)
        task = await running(loop)
        poster = EventPoster(f"http://127.0.0.1:{port}/events", SECRET)
        try:
            status, answer = await poster.post(encode_event(read(jpeg=jpeg)))
            await lane.until(1)
        finally:
            await poster.close()
            await stop(task)
    assert (status, answer) == (200, "accepted e1")
    (fed,) = lane.fed
    assert isinstance(fed, PlateReported)
    assert (fed.side, fed.plate, fed.snapshot_sha256) == (
        Side.ENTRY,
        "29C12345",
        snapshot_hash(jpeg),
    )
    assert store.path_for(fed.snapshot_sha256).read_bytes() == jpeg
    assert loop.status()["accepted"] == 1


async def test_a_lane_without_a_camera_section_has_no_camera(tmp_path: Path) -> None:
    lane_config = GatewayConfig.model_validate(base_config(tmp_path)).lanes[0]
    assert camera_drivers(lane_config) == ([], {})


async def test_both_sides_get_a_driver_on_one_listener(tmp_path: Path) -> None:
    exit_side = {"id": "L01-exit", "allow_from": ["127.0.0.1"]}
    listeners, drivers = camera_drivers(camera_config(tmp_path, exit=exit_side).lanes[0])
    assert len(listeners) == 1
    assert {side: d.camera_id for side, d in drivers.items()} == {
        Side.ENTRY: "L01-entry",
        Side.EXIT: "L01-exit",
    }


async def test_an_unreadable_secret_is_refused_when_the_lane_is_built(tmp_path: Path) -> None:
    config = camera_config(tmp_path)
    (tmp_path / "entry.secret").unlink()
    with pytest.raises(ConfigError, match=r"lanes\.L01\.camera\.entry\.secret_file"):
        camera_drivers(config.lanes[0])


@pytest.mark.looptime
async def test_the_lane_runs_a_camera_task_and_shows_its_counters() -> None:
    lane = EmulatedLane()
    source = listener()
    setup = dataclasses.replace(
        lane.runtime.setup, cameras={Side.ENTRY: CameraDriver(source, "L01-entry")}
    )
    recorder = Recorder()
    runtime = PlatesAside(
        recorder, setup, lane.journal, lane.runtime.clearance, on_change=lane.stepped.notify
    )
    lane.runtime = runtime
    task = asyncio.create_task(lane.run())
    try:
        await recorder_until_booted(lane)
        assert "L01:entry_camera" in {t.get_name() for t in asyncio.all_tasks()}
        source.queues["L01-entry"].put(read())
        await recorder.until(1)
        cameras = runtime.snapshot()["cameras"]
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert isinstance(cameras, dict)
    shown = cameras["L01-entry"]
    assert (shown["side"], shown["snapshot_failures"]) == ("entry", 0)
    assert shown["last_read"]["plate"] == "29C12345"


class PlatesAside(LaneRuntime):
    """Plate reads to a recorder (the core cannot take them yet), the rest to the core."""

    def __init__(self, recorder: Recorder, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.recorder = recorder

    def feed(self, event: Event) -> list[Command]:
        if isinstance(event, PlateReported):
            return self.recorder.feed(event)
        return super().feed(event)


async def recorder_until_booted(lane: EmulatedLane) -> None:
    async with asyncio.timeout(WAIT_S):
        await lane.runtime.booted.wait()


async def test_the_camera_figures_in_the_metrics(tmp_path: Path) -> None:
    lane = EmulatedLane()
    source = listener()
    setup = dataclasses.replace(
        lane.runtime.setup, cameras={Side.ENTRY: CameraDriver(source, "L01-entry")}
    )
    runtime = LaneRuntime(setup, lane.journal, lane.runtime.clearance, snapshots=BrokenStore())
    metrics = GatewayMetrics([runtime])
    recorder = Recorder()
    camera = runtime.cameras[Side.ENTRY]
    camera.host = recorder
    source.accepted["L01-entry"] += 3  # as the listener counts what it took
    source.rejected["auth"] += 2
    for event_id in ("e1", "e1", "e2"):
        source.queues["L01-entry"].put(read(event_id))
    task = await running(camera)
    try:
        await recorder.until(2)
    finally:
        await stop(task)
    samples = await scraped(metrics)
    reads = "gatebridge_camera_reads_total"
    assert value(samples, reads, lane="L01", camera="L01-entry", outcome="accepted") == 3
    assert value(samples, reads, lane="L01", camera="L01-entry", outcome="duplicate") == 1
    assert value(samples, "gatebridge_camera_rejected_total", lane="L01", reason="auth") == 2
    failures = "gatebridge_snapshot_write_failures_total"
    assert value(samples, failures, lane="L01", camera="L01-entry") == 2


async def test_an_address_in_use_is_an_error_before_any_lane_starts(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        listeners, _ = camera_drivers(camera_config(tmp_path, listen=f"127.0.0.1:{port}").lanes[0])
        setup = dataclasses.replace(EmulatedLane().runtime.setup, listeners=listeners)
        with pytest.raises(DeviceBroken, match=f"cannot listen on 127.0.0.1:{port}"):
            async with listening([setup]):
                pytest.fail("the block ran without its listener")


async def test_the_listeners_are_closed_after_the_block(tmp_path: Path) -> None:
    listeners, _ = camera_drivers(camera_config(tmp_path).lanes[0])
    setup = dataclasses.replace(EmulatedLane().runtime.setup, listeners=listeners)
    async with listening([setup]):
        port = listeners[0].port  # type: ignore[attr-defined]
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.close()
    with pytest.raises(ConnectionRefusedError):
        await asyncio.open_connection("127.0.0.1", port)
