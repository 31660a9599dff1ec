"""The camera listener over a real socket on a free 127.0.0.1 port: every answer it gives,
the bounded queue, and the driver's duplicate suppression. Real time, short timeouts."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator

import pytest

from controller.errors import DeviceBroken, DeviceTimeout
from devices.camera.driver import CameraDriver
from devices.camera.listener import (
    CameraAuth,
    CameraListener,
    ListenerSettings,
    source_address,
)

JPEG = bytes.fromhex("FFD8FFE000104A46494600010100000100010000FFD9")
ENTRY_SECRET = b"entry-secret-0123456789"
CAMERAS = (
    CameraAuth("L01-entry", secret=ENTRY_SECRET),
    CameraAuth("L01-exit", allow_from=frozenset({"127.0.0.1"})),
    CameraAuth("L02-entry", secret=b"other", allow_from=frozenset({"10.9.9.9"})),
)


def event(camera: str = "L01-entry", event_id: str = "e1", **changes: object) -> bytes:
    fields: dict[str, object] = {
        "camera": camera,
        "event_id": event_id,
        "plate": "29C12345",
        "country": "VN",
        "confidence": 0.9,
        "timestamp": "2026-12-03T08:15:30.250Z",
        "snapshot_jpeg": base64.b64encode(JPEG).decode(),
    }
    fields.update(changes)
    return json.dumps(fields).encode()


def request(
    body: bytes,
    *,
    secret: bytes | None = ENTRY_SECRET,
    method: str = "POST",
    path: str = "/events",
    extra: str = "",
    length: int | None = None,
) -> bytes:
    size = len(body) if length is None else length
    head = f"{method} {path} HTTP/1.1\r\nHost: gw\r\nContent-Length: {size}\r\n"
    if secret is not None:
        head += f"Authorization: Bearer {secret.decode()}\r\n"
    return (head + extra + "\r\n").encode() + body


@pytest.fixture
async def listener() -> AsyncIterator[CameraListener]:
    settings = ListenerSettings("127.0.0.1", 0, CAMERAS, max_body_bytes=4096, queue_size=3)
    async with CameraListener(settings) as started:
        yield started


async def exchange(listener: CameraListener, *requests: bytes) -> list[tuple[int, str]]:
    """Send `requests` on one connection; the answers, read until the server stops."""
    reader, writer = await asyncio.open_connection("127.0.0.1", listener.port)
    answers = []
    try:
        async with asyncio.timeout(3):
            for data in requests:
                writer.write(data)
                await writer.drain()
                status_line = await reader.readuntil(b"\r\n")
                headers = {}
                while line := (await reader.readuntil(b"\r\n"))[:-2].decode():
                    name, _, value = line.partition(":")
                    headers[name.lower()] = value.strip()
                body = await reader.readexactly(int(headers["content-length"]))
                answers.append((int(status_line.split()[1]), body.decode().strip()))
                if headers.get("connection") == "close":
                    assert await reader.read() == b""  # the server closed it
                    break
    finally:
        writer.close()
    return answers


async def test_an_authenticated_event_is_accepted_and_queued(listener: CameraListener) -> None:
    assert await exchange(listener, request(event())) == [(200, "accepted e1")]
    read = await CameraDriver(listener, "L01-entry").next_read(1)
    assert (read.plate, read.confidence, read.snapshot_jpeg) == ("29C12345", 0.9, JPEG)


async def test_an_allow_listed_source_needs_no_secret(listener: CameraListener) -> None:
    answers = await exchange(listener, request(event("L01-exit"), secret=None))
    assert answers == [(200, "accepted e1")]
    assert listener.accepted == {"L01-exit": 1}


async def test_missing_or_wrong_credentials_get_401(listener: CameraListener) -> None:
    # no secret from 127.0.0.1 authorises L01-exit only, so L01-entry's event is a 403;
    # a wrong secret matches no camera
    assert (await exchange(listener, request(event(), secret=b"guess")))[0][0] == 401
    assert (await exchange(listener, request(event(), secret=None)))[0][0] == 403
    assert listener.rejected == {"auth": 1, "camera": 1}
    assert listener.accepted == {}


async def test_a_right_secret_from_a_source_not_allowed_gets_403(listener: CameraListener) -> None:
    [(status, reason)] = await exchange(listener, request(event("L02-entry"), secret=b"other"))
    assert status == 403
    assert "source 127.0.0.1 not allowed" in reason


async def test_an_event_for_another_or_unknown_camera_gets_403(listener: CameraListener) -> None:
    for camera in ("L01-exit", "L09-entry"):
        [(status, reason)] = await exchange(listener, request(event(camera)))
        assert status == 403
        assert repr(camera) in reason
    assert listener.accepted == {}


async def test_a_body_over_the_limit_gets_413_unread(listener: CameraListener) -> None:
    [(status, _)] = await exchange(listener, request(b"", length=4097))
    assert status == 413
    assert listener.rejected == {"too_large": 1}


async def test_chunked_or_unframed_bodies_get_411(listener: CameraListener) -> None:
    chunked = b"POST /events HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
    unframed = b"POST /events HTTP/1.1\r\nHost: gw\r\n\r\n"
    for data in (chunked, unframed):
        [(status, reason)] = await exchange(listener, data)
        assert (status, reason) == (
            411,
            "send the body with a Content-Length (no chunked encoding)",
        )


async def test_a_malformed_event_gets_400_with_the_reason(listener: CameraListener) -> None:
    answers = await exchange(
        listener,
        request(b"{not json"),
        request(event(plate="29C-123.45")),
        request(event(confidence=2)),
        request(event()),  # the connection carries on after a 400
    )
    assert answers[0] == (400, "body: not a UTF-8 JSON document")
    assert answers[1][0] == 400
    assert answers[1][1].startswith("plate: '29C-123.45' is not 4..10 capital")
    assert answers[2] == (400, "confidence: 2 is outside 0..1")
    assert answers[3] == (200, "accepted e1")
    assert listener.rejected == {"event.body": 1, "event.plate": 1, "event.confidence": 1}


async def test_a_malformed_request_line_gets_400(listener: CameraListener) -> None:
    assert await exchange(listener, b"POST /events\r\n\r\n") == [(400, "malformed request line")]


async def test_a_wrong_path_gets_404_and_a_wrong_method_405(listener: CameraListener) -> None:
    [(status, _)] = await exchange(listener, request(event(), path="/other"))
    assert status == 404
    [(status, reason)] = await exchange(listener, request(b"", method="GET"))
    assert (status, reason) == (405, "POST only")
    assert listener.rejected == {"path": 1, "method": 1}


async def test_a_full_queue_drops_the_oldest_and_counts_it(listener: CameraListener) -> None:
    posts = [request(event(event_id=f"e{n}")) for n in range(5)]
    assert [status for status, _ in await exchange(listener, *posts)] == [200] * 5
    driver = CameraDriver(listener, "L01-entry")
    assert [(await driver.next_read(1)).event_id for _ in range(3)] == ["e2", "e3", "e4"]
    assert driver.counters().dropped == 2
    assert driver.counters().accepted == 5


async def test_the_driver_suppresses_a_resent_event_id(listener: CameraListener) -> None:
    driver = CameraDriver(listener, "L01-entry")
    posts = [request(event(event_id=i)) for i in ("e1", "e1", "e2")]
    await exchange(listener, *posts)
    assert (await driver.next_read(1)).event_id == "e1"
    assert (await driver.next_read(1)).event_id == "e2"
    assert driver.counters().duplicates == 1
    with pytest.raises(DeviceTimeout, match=r"L01-entry: no plate read within 0\.05s"):
        await driver.next_read(0.05)


async def test_a_connection_close_request_is_honoured(listener: CameraListener) -> None:
    answers = await exchange(
        listener, request(event(), extra="Connection: close\r\n"), request(event(event_id="e2"))
    )
    assert answers == [(200, "accepted e1")]  # the second never went: the server closed


async def test_a_port_in_use_is_a_broken_device(listener: CameraListener) -> None:
    taken = ListenerSettings("127.0.0.1", listener.port, CAMERAS)
    with pytest.raises(DeviceBroken, match=r"cannot listen on 127\.0\.0\.1"):
        await CameraListener(taken).start()


async def test_rejections_by_unknown_field_share_one_counter(listener: CameraListener) -> None:
    posts = [request(event()[:-1] + f', "x{n}": 1}}'.encode()) for n in range(3)]
    answers = await exchange(listener, *posts)
    assert [status for status, _ in answers] == [400] * 3
    assert answers[0][1] == "x0: unknown field"
    assert listener.rejected == {"event.unknown_field": 3}


@pytest.mark.parametrize(
    ("peer", "address"),
    [
        (("10.0.1.31", 50000), "10.0.1.31"),
        (("::ffff:10.0.1.31", 50000, 0, 0), "10.0.1.31"),
        (("fe80::1%eth0", 50000, 0, 2), "fe80::1"),
        (None, ""),
    ],
)
def test_source_addresses_are_compared_as_allow_from_names_them(peer: object, address: str) -> None:
    assert source_address(peer) == address


def test_a_camera_without_credentials_is_refused() -> None:
    with pytest.raises(ValueError, match="a secret or allow_from is needed"):
        CameraAuth("L01-entry")


async def test_a_client_expecting_100_continue_is_told_to_go_on(listener: CameraListener) -> None:
    body = event()
    head = request(body, extra="Expect: 100-continue\r\n")[: -len(body)]
    reader, writer = await asyncio.open_connection("127.0.0.1", listener.port)
    try:
        writer.write(head)  # the head alone: the body follows the interim answer
        async with asyncio.timeout(2):
            assert await reader.readuntil(b"\r\n\r\n") == b"HTTP/1.1 100 Continue\r\n\r\n"
            writer.write(body)
            assert (await reader.readuntil(b"\r\n")).startswith(b"HTTP/1.1 200 OK")
    finally:
        writer.close()


async def test_a_sender_that_stalls_is_cut_off() -> None:
    settings = ListenerSettings("127.0.0.1", 0, CAMERAS, header_timeout_s=0.2)
    async with CameraListener(settings) as listener:
        reader, writer = await asyncio.open_connection("127.0.0.1", listener.port)
        try:
            writer.write(b"POST /events HTTP/1.1\r\nHost: gw\r\n")  # and then nothing
            async with asyncio.timeout(2):
                assert await reader.read() == b""  # closed by the listener, unanswered
        finally:
            writer.close()


async def test_connections_beyond_the_limit_get_503() -> None:
    settings = ListenerSettings("127.0.0.1", 0, CAMERAS, max_connections=2)
    async with CameraListener(settings) as listener:
        held = [await asyncio.open_connection("127.0.0.1", listener.port) for _ in range(2)]
        try:
            # the held ones are counted once their handlers run: a completed exchange on
            # each proves it
            for reader, writer in held:
                writer.write(request(event()))
                async with asyncio.timeout(2):
                    assert (await reader.readuntil(b"\r\n")).startswith(b"HTTP/1.1 200")
            reader, writer = await asyncio.open_connection("127.0.0.1", listener.port)
            async with asyncio.timeout(2):
                answer = await reader.read()
            writer.close()
            assert answer.startswith(b"HTTP/1.1 503 Service Unavailable")
            assert listener.rejected == {"busy": 1}
        finally:
            for _, held_writer in held:
                held_writer.close()


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", "non-ASCII header"),  # TLS
        (b"POST /events HTTP/1.1\r\n" + b"X: " + b"a" * 9000 + b"\r\n\r\n", "too long"),
        (b"POST /events HTTP/1.1\r\n" + b"X: 1\r\n" * 65 + b"\r\n", "more than 64 headers"),
        (b"POST /events HTTP/1.1\r\n no-name\r\n\r\n", "malformed header line"),
        (b"POST /events HTTP/1.1\r\nContent-Length: -5\r\n\r\n", "not a number"),
    ],
)
async def test_hostile_requests_get_400_and_the_listener_serves_on(
    listener: CameraListener, data: bytes, reason: str
) -> None:
    [(status, answer)] = await exchange(listener, data)
    assert status == 400
    assert reason in answer
    assert await exchange(listener, request(event())) == [(200, "accepted e1")]
