"""The emulated camera end to end: world -> camera model -> interface -> HTTP POST ->
the gateway's listener -> driver, over a real socket on 127.0.0.1 (real time, short)."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from PIL import Image

from devices.camera.codec import decode_event
from devices.camera.driver import CameraDriver
from devices.camera.listener import CameraAuth, CameraListener, ListenerSettings
from emulators.camera.interface import CameraInterface, EventPoster, EventPusher
from emulators.camera.model import CameraFeed, CameraModel, PlateSighting
from emulators.world import World
from tests.emulators.test_world import HandPanel

SECRET = b"s3cret-entry"
EPOCH = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)


@pytest.fixture
async def listener() -> AsyncIterator[CameraListener]:
    cameras = (CameraAuth("L01-entry", secret=SECRET),)
    async with CameraListener(ListenerSettings("127.0.0.1", 0, cameras)) as started:
        yield started


def url(listener: CameraListener, path: str = "/events") -> str:
    return f"http://127.0.0.1:{listener.port}{path}"


def sighting(ident: int, plate: str = "29C12345") -> PlateSighting:
    return PlateSighting(ident, plate, plate, 0.9, 1.5)


def interface_with(*sightings: PlateSighting) -> CameraInterface:
    model = CameraModel()
    model.reads.extend(sightings)
    return CameraInterface(model, "L01-entry", EPOCH)


def test_events_carry_the_read_its_time_and_a_snapshot_of_it() -> None:
    [body] = interface_with(sighting(1, "29C1234S")).events()
    read = decode_event("test", body)
    assert (read.camera, read.event_id, read.plate) == ("L01-entry", "L01-entry-000001", "29C1234S")
    assert read.timestamp == EPOCH + timedelta(seconds=1.5)
    assert Image.open(io.BytesIO(read.snapshot_jpeg)).size == (160, 60)


async def test_a_truck_driving_into_the_field_reaches_the_driver(listener: CameraListener) -> None:
    world = World(HandPanel(), seed=2)
    feed = CameraFeed(CameraModel(miss_rate=0, misread_rate=0, seed=2), world)
    truck = world.spawn(world.make_truck())
    pusher = EventPusher(
        CameraInterface(feed.camera, "L01-entry", EPOCH), EventPoster(url(listener), SECRET)
    )
    driver = CameraDriver(listener, "L01-entry")
    for _ in range(200):  # 10 emulated seconds: the front crosses -8 m at 7.9 s
        world.advance(0.05)
        feed.advance(0.05)
    pusher.collect()
    try:
        assert await pusher.deliver()
        read = await driver.next_read(2)
    finally:
        await pusher.poster.close()
    assert read.plate == truck.plate
    assert pusher.delivered == 1
    assert driver.counters().accepted == 1


async def test_the_pusher_runs_until_cancelled_and_keeps_one_connection(
    listener: CameraListener,
) -> None:
    interface = interface_with(*(sighting(n) for n in range(5)))
    pusher = EventPusher(interface, EventPoster(url(listener), SECRET))
    task = asyncio.create_task(pusher.run(period_s=0.01))
    driver = CameraDriver(listener, "L01-entry")
    try:
        ids = [(await driver.next_read(2)).event_id for _ in range(5)]
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert ids == [f"L01-entry-00000{n}" for n in range(1, 6)]
    assert not pusher.poster.connected  # closed on the way out


async def test_a_refused_event_is_counted_and_not_resent(listener: CameraListener) -> None:
    pusher = EventPusher(interface_with(sighting(1)), EventPoster(url(listener), b"wrong"))
    pusher.collect()
    try:
        assert await pusher.deliver()
    finally:
        await pusher.poster.close()
    assert pusher.refused == {401: 1}
    assert len(pusher.backlog) == 0
    assert listener.rejected == {"auth": 1}


async def test_an_absent_gateway_keeps_the_events_for_a_retry(listener: CameraListener) -> None:
    port = listener.port
    await listener.close()
    pusher = EventPusher(
        interface_with(sighting(1)), EventPoster(f"http://127.0.0.1:{port}/events", SECRET)
    )
    pusher.collect()
    assert not await pusher.deliver()
    assert (len(pusher.backlog), pusher.failures) == (1, 1)


def test_only_plain_http_gateway_urls_are_taken() -> None:
    for bad in ("https://gw/events", "ftp://gw/x", "http:///events", "http://gw/e?x=1"):
        with pytest.raises(ValueError, match="http://HOST:PORT/PATH expected"):
            EventPoster(bad)
