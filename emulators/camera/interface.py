"""The camera's wire: each read as an ANPR event (devices/camera/codec.py), POSTed.

`CameraInterface` turns the model's reads into event bodies: ids `{camera}-{n:06d}`, the
time as the wall clock at emulated `epoch` plus the read's emulated time (injected: the
emulator reads no clock), the snapshot drawn with the plate it read. `EventPoster` is the
HTTP/1.1 client a camera is (standard library, one kept-alive connection, Bearer
secret). `push_events` delivers them in order: a 2xx or 4xx answer settles an event (a
4xx is counted by status: the gateway refused it and a resend would be refused again); a
5xx, a refused connection or a timeout keeps it for a retry after `retry_s`, as cameras
buffer events while the gateway is away. The backlog is bounded; the oldest goes first.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter, deque
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from devices.camera.codec import PlateRead, encode_event
from emulators.camera.model import CameraModel
from emulators.camera.snapshot import render_plate

BACKLOG = 256


class CameraInterface:
    def __init__(
        self, model: CameraModel, camera_id: str, epoch: datetime, country: str = "VN"
    ) -> None:
        if epoch.tzinfo is None:
            raise ValueError("camera epoch: an aware datetime (UTC) is needed")
        self.model, self.camera_id, self.epoch, self.country = model, camera_id, epoch, country
        self._sequence = 0

    def events(self) -> list[bytes]:
        """Event bodies for the reads made since the last call, oldest first."""
        bodies = []
        for sighting in self.model.take():
            self._sequence += 1
            read = PlateRead(
                camera=self.camera_id,
                event_id=f"{self.camera_id}-{self._sequence:06d}",
                plate=sighting.plate,
                country=self.country,
                confidence=sighting.confidence,
                timestamp=self.epoch + timedelta(seconds=sighting.at),
                snapshot_jpeg=render_plate(sighting.plate),
            )
            bodies.append(encode_event(read))
        return bodies


class EventPoster:
    """POSTs event bodies to `url` (`http://HOST:PORT/PATH`) on one kept-alive connection."""

    def __init__(self, url: str, secret: bytes | None = None, timeout_s: float = 2.0) -> None:
        parts = urlsplit(url)
        if parts.scheme != "http" or not parts.hostname or parts.query:
            raise ValueError(f"camera gateway url: http://HOST:PORT/PATH expected, not {url!r}")
        self.host, self.port = parts.hostname, parts.port or 80
        self.path = parts.path or "/"
        self.secret, self.timeout_s = secret, timeout_s
        self._streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def post(self, body: bytes) -> tuple[int, str]:
        """The gateway's status and its one-line answer. OSError/TimeoutError: no answer."""
        async with asyncio.timeout(self.timeout_s):
            reader, writer = await self._connection()
            try:
                writer.write(self._request(body))
                await writer.drain()
                status, answer, keep = await _response(reader)
            except BaseException:
                await self.close()
                raise
        if not keep:
            await self.close()
        return status, answer

    def _request(self, body: bytes) -> bytes:
        head = [f"POST {self.path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        head += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
        if self.secret is not None:
            head.append(f"Authorization: Bearer {self.secret.decode()}")
        return ("\r\n".join(head) + "\r\n\r\n").encode() + body

    async def _connection(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self._streams is None:
            self._streams = await asyncio.open_connection(self.host, self.port)
        return self._streams

    @property
    def connected(self) -> bool:
        return self._streams is not None

    async def close(self) -> None:
        streams, self._streams = self._streams, None
        if streams is not None:
            streams[1].close()
            with contextlib.suppress(OSError):
                await streams[1].wait_closed()


async def _response(reader: asyncio.StreamReader) -> tuple[int, str, bool]:
    status_line = (await reader.readuntil(b"\r\n")).decode("latin-1").split(" ", 2)
    if len(status_line) < 2 or not status_line[1].isdigit():
        raise OSError(f"not an HTTP answer: {status_line!r}")
    headers: dict[str, str] = {}
    while line := (await reader.readuntil(b"\r\n"))[:-2].decode("latin-1"):
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    keep = headers.get("connection", "").lower() != "close"
    return int(status_line[1]), body.decode("utf-8", "replace").strip(), keep


class EventPusher:
    """Delivers an interface's events through a poster, in order, with retries."""

    def __init__(self, interface: CameraInterface, poster: EventPoster, retry_s: float = 0.5):
        self.interface, self.poster, self.retry_s = interface, poster, retry_s
        self.backlog: deque[bytes] = deque()
        self.delivered = 0
        self.dropped = 0
        self.refused: Counter[int] = Counter()  # 4xx answers, by status
        self.failures = 0  # answers withheld: no connection, a timeout, a 5xx

    def collect(self) -> None:
        for body in self.interface.events():
            if len(self.backlog) >= BACKLOG:
                self.backlog.popleft()
                self.dropped += 1
            self.backlog.append(body)

    async def deliver(self) -> bool:
        """Posts the backlog in order; False when the gateway did not take the head."""
        while self.backlog:
            try:
                status, _ = await self.poster.post(self.backlog[0])
            except (OSError, TimeoutError, EOFError, ValueError, asyncio.LimitOverrunError):
                status = 0
            if status >= 500 or status == 0:
                self.failures += 1
                return False
            self.backlog.popleft()
            if status >= 400:
                self.refused[status] += 1
            else:
                self.delivered += 1
        return True

    async def run(self, period_s: float = 0.05) -> None:
        """Collect and deliver every `period_s` of loop time until cancelled."""
        try:
            while True:
                self.collect()
                await asyncio.sleep(period_s if await self.deliver() else self.retry_s)
        finally:
            await self.poster.close()
