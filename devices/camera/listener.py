"""The gateway's HTTP/1.1 listener for ANPR cameras' plate-read events. Standard library.

Theory of operation: cameras POST one event per read (devices/camera/codec.py) to `path`
on the listener, bound to the camera network. A request is checked in the order a camera
can act on: the path (404), the method (405), the framing (Content-Length required: 411
for a chunked or unframed body; 413 over `max_body_bytes`, refused before the body is
read), the credentials (401), the event (400, the one-line reason as the body), and the
camera it names (403 unless these credentials are that camera's). A camera is authorised
by its `Authorization: Bearer` secret (hmac.compare_digest against every configured
secret), by its source address, or by both when both are configured. Accepted events go
to the camera's bounded queue; when it is full the oldest is dropped and counted, since
the newest read is the one a waiting lane needs. Connections are kept alive for HTTP/1.1
unless a framing error or `Connection: close` ends them; slow senders are cut after
`header_timeout_s`, and connections beyond `max_connections` get 503. A client that
sends `Expect: 100-continue` is told to go on once its head has passed the checks.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import ipaddress
from collections import Counter, deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from http import HTTPStatus

from controller.errors import DeviceBroken
from devices.camera.codec import FIELDS, InvalidEvent, PlateRead, decode_event

MAX_HEADER_LINE, MAX_HEADERS = 8192, 64
KNOWN_FIELDS = frozenset({*FIELDS, "body"})  # counters keyed by a sender's field names would grow


@dataclass(frozen=True, slots=True)
class CameraAuth:
    """How one camera proves itself: a shared secret, allowed source addresses, or both."""

    camera_id: str
    secret: bytes | None = None
    allow_from: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if self.secret is None and not self.allow_from:
            raise ValueError(f"camera {self.camera_id}: a secret or allow_from is needed")


@dataclass(frozen=True, slots=True)
class ListenerSettings:
    host: str
    port: int
    cameras: tuple[CameraAuth, ...]
    path: str = "/events"
    max_body_bytes: int = 256 * 1024
    queue_size: int = 64
    header_timeout_s: float = 10.0
    max_connections: int = 32  # cameras keep one each; more is a misbehaving sender


class ReadQueue:
    """One camera's accepted reads, bounded: the oldest goes (and is counted) when full."""

    def __init__(self, size: int) -> None:
        self._reads: deque[PlateRead] = deque()
        self._size = size
        self._ready = asyncio.Event()
        self.dropped = 0

    def put(self, read: PlateRead) -> None:
        if len(self._reads) >= self._size:
            self._reads.popleft()
            self.dropped += 1
        self._reads.append(read)
        self._ready.set()

    async def get(self) -> PlateRead:
        while not self._reads:
            self._ready.clear()
            await self._ready.wait()
        return self._reads.popleft()

    def __len__(self) -> int:
        return len(self._reads)


class HttpError(Exception):  # an answer to send, not an error of ours
    """`keep`: the request was read whole, so the connection may carry another."""

    def __init__(
        self, status: HTTPStatus, reason: str, counted_as: str, *, keep: bool = False
    ) -> None:
        super().__init__(reason)
        self.status, self.reason, self.counted_as, self.keep = status, reason, counted_as, keep


@dataclass(slots=True)
class Request:
    method: str
    path: str
    version: str
    headers: dict[str, str] = field(default_factory=dict)


class CameraListener:
    def __init__(self, settings: ListenerSettings, name: str = "camera-listener") -> None:
        ids = [camera.camera_id for camera in settings.cameras]
        if len(set(ids)) != len(ids):
            raise ValueError(f"{name}: a camera id appears twice")
        self.settings, self.name = settings, name
        self.queues = {camera_id: ReadQueue(settings.queue_size) for camera_id in ids}
        self.accepted: Counter[str] = Counter()  # by camera
        self.rejected: Counter[str] = Counter()  # by reason
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._handlers: set[asyncio.Task[None]] = set()
        self.port = settings.port

    async def start(self) -> None:
        try:
            self._server = await asyncio.start_server(
                self._connection, self.settings.host, self.settings.port, limit=MAX_HEADER_LINE
            )
        except OSError as error:
            where = f"{self.settings.host}:{self.settings.port}"
            raise DeviceBroken(self.name, f"cannot listen on {where}: {error}") from error
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            for writer in list(self._writers):  # 3.11's wait_closed does not end them
                writer.close()
            if self._handlers:  # they end on the EOF; cancelled, 3.11's streams log an error
                await asyncio.wait(self._handlers, timeout=1.0)
            await self._server.wait_closed()
            self._server = None

    async def __aenter__(self) -> CameraListener:
        await self.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        source = source_address(writer.get_extra_info("peername"))
        self._writers.add(writer)
        handler = asyncio.current_task()
        if handler is not None:
            self._handlers.add(handler)
        try:
            if len(self._writers) > self.settings.max_connections:
                self.rejected["busy"] += 1
                await respond(
                    writer, HTTPStatus.SERVICE_UNAVAILABLE, "too many connections", close=True
                )
                return
            while await self._exchange(reader, writer, source):
                pass
        except (ConnectionError, TimeoutError, asyncio.IncompleteReadError):
            pass  # the camera went away or stalled: nothing to answer
        finally:
            self._writers.discard(writer)
            if handler is not None:
                self._handlers.discard(handler)
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    async def _exchange(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, source: str
    ) -> bool:
        """One request and its answer; whether the connection may carry another."""
        keep = False
        async with asyncio.timeout(self.settings.header_timeout_s):
            try:
                request = await read_head(reader)
                if request is None:
                    return False
                keep = self._check(request)
                camera_ids = self._authorised(request.headers, source)
                if request.headers.get("expect", "").lower() == "100-continue":
                    writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")  # curl waits for it
                body = await reader.readexactly(int(request.headers["content-length"]))
                read = self._accept(body, camera_ids)
            except HttpError as error:
                self.rejected[error.counted_as] += 1
                keep = keep and error.keep
                await respond(writer, error.status, error.reason, close=not keep)
                return keep
        await respond(writer, HTTPStatus.OK, f"accepted {read.event_id}", close=not keep)
        return keep

    def _check(self, request: Request) -> bool:
        if request.path.split("?", 1)[0] != self.settings.path:
            raise HttpError(HTTPStatus.NOT_FOUND, f"no such path: {request.path[:80]}", "path")
        if request.method != "POST":
            raise HttpError(HTTPStatus.METHOD_NOT_ALLOWED, "POST only", "method")
        return framing(request, self.settings.max_body_bytes)

    def _authorised(self, headers: Mapping[str, str], source: str) -> set[str]:
        """The cameras these credentials stand for: a Bearer secret names the cameras it
        belongs to (then their source rules apply too); no secret, the cameras that need
        none and allow this source."""
        cameras = self.settings.cameras
        if "authorization" not in headers:
            allowed = {c.camera_id for c in cameras if c.secret is None and source in c.allow_from}
            if not allowed:
                raise HttpError(HTTPStatus.UNAUTHORIZED, "credentials missing", "auth")
            return allowed
        secret = bearer(headers["authorization"])
        matches = [hmac.compare_digest(c.secret or b"", secret or b"\0") for c in cameras]
        by_secret = [c for c, match in zip(cameras, matches, strict=True) if match and c.secret]
        if not by_secret:
            raise HttpError(HTTPStatus.UNAUTHORIZED, "credentials wrong", "auth")
        allowed = {c.camera_id for c in by_secret if not c.allow_from or source in c.allow_from}
        if not allowed:
            raise HttpError(HTTPStatus.FORBIDDEN, f"source {source} not allowed", "source")
        return allowed

    def _accept(self, body: bytes, camera_ids: set[str]) -> PlateRead:
        limit = self.settings.max_body_bytes
        try:
            read = decode_event(self.name, body, max_snapshot_bytes=limit)
        except InvalidEvent as error:
            raise HttpError(
                HTTPStatus.BAD_REQUEST,
                f"{error.field}: {error.reason}",
                f"event.{error.field if error.field in KNOWN_FIELDS else 'unknown_field'}",
                keep=True,
            ) from None
        if read.camera not in camera_ids:
            reason = f"camera {read.camera!r} is not the one these credentials are for"
            raise HttpError(HTTPStatus.FORBIDDEN, reason, "camera", keep=True)
        self.accepted[read.camera] += 1
        self.queues[read.camera].put(read)
        return read


async def read_head(reader: asyncio.StreamReader) -> Request | None:
    """The request line and headers; None when the camera closed between requests."""
    line = await _line(reader)
    if not line:
        return None
    parts = line.split(" ")
    if len(parts) != 3 or parts[2] not in ("HTTP/1.1", "HTTP/1.0"):
        raise HttpError(HTTPStatus.BAD_REQUEST, "malformed request line", "request")
    request = Request(parts[0], parts[1], parts[2])
    for _ in range(MAX_HEADERS + 1):
        header = await _line(reader)
        if not header:
            return request
        name, colon, value = header.partition(":")
        if not colon or not name or name != name.strip():
            raise HttpError(HTTPStatus.BAD_REQUEST, "malformed header line", "request")
        request.headers[name.lower()] = value.strip()
    raise HttpError(HTTPStatus.BAD_REQUEST, f"more than {MAX_HEADERS} headers", "request")


async def _line(reader: asyncio.StreamReader) -> str:
    try:
        raw = await reader.readuntil(b"\r\n")
    except asyncio.IncompleteReadError as error:
        if error.partial:
            raise
        return ""
    except asyncio.LimitOverrunError:
        raise HttpError(HTTPStatus.BAD_REQUEST, "header line too long", "request") from None
    try:
        return raw[:-2].decode("ascii")
    except UnicodeDecodeError:
        raise HttpError(HTTPStatus.BAD_REQUEST, "non-ASCII header", "request") from None


def framing(request: Request, limit: int) -> bool:
    """Checks the body's framing; whether the connection may be kept alive after it."""
    headers = request.headers
    if "transfer-encoding" in headers or "content-length" not in headers:
        reason = "send the body with a Content-Length (no chunked encoding)"
        raise HttpError(HTTPStatus.LENGTH_REQUIRED, reason, "length")
    length = headers["content-length"]
    if not length.isdigit() or len(length) > 12:
        raise HttpError(HTTPStatus.BAD_REQUEST, "Content-Length is not a number", "length")
    if int(length) > limit:
        raise HttpError(
            HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"body over {limit} bytes", "too_large"
        )
    connection = headers.get("connection", "").lower()
    if request.version == "HTTP/1.0":
        return connection == "keep-alive"
    return connection != "close"


def source_address(peer: object) -> str:
    """The sender's address as allow_from names it (an IPv4-mapped IPv6 peer as IPv4)."""
    if not isinstance(peer, tuple) or not peer:
        return ""
    try:
        address = ipaddress.ip_address(str(peer[0]).split("%", 1)[0])
    except ValueError:
        return str(peer[0])
    mapped = getattr(address, "ipv4_mapped", None)
    return str(mapped or address)


def bearer(value: str | None) -> bytes | None:
    if value is None:
        return None
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip().encode("utf-8", "replace")


async def respond(
    writer: asyncio.StreamWriter, status: HTTPStatus, reason: str, *, close: bool
) -> None:
    body = (reason.replace("\r", " ").replace("\n", " ") + "\n").encode("utf-8", "replace")
    head = [f"HTTP/1.1 {status.value} {status.phrase}", "Content-Type: text/plain; charset=utf-8"]
    head.append(f"Content-Length: {len(body)}")
    if status == HTTPStatus.METHOD_NOT_ALLOWED:
        head.append("Allow: POST")
    if status == HTTPStatus.UNAUTHORIZED:
        head.append("WWW-Authenticate: Bearer")
    if close:
        head.append("Connection: close")
    writer.write(("\r\n".join(head) + "\r\n\r\n").encode("ascii") + body)
    await writer.drain()
