"""ANPR plate-read events: one JSON object per read, as lane cameras POST them. Pure.

`{"camera", "event_id", "plate", "country", "confidence", "timestamp", "snapshot_jpeg"}`,
all required, nothing else: a plate as the camera normalised it (Latin capitals and
digits, separators stripped), an ISO 3166 alpha-2 country, a confidence in 0..1, an RFC
3339 UTC time ending in `Z`, and the snapshot as standard padded base64 of a JPEG (SOI at
the start, EOI at the end). A bad event raises `InvalidEvent` naming the field; arbitrary
bytes give an event or that error, never another exception.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from controller.errors import DeviceProtocolError

FIELDS = ("camera", "event_id", "plate", "country", "confidence", "timestamp", "snapshot_jpeg")
MAX_SNAPSHOT_BYTES = 192 * 1024
CAMERA_ID = re.compile(r"[A-Za-z0-9_.-]{1,64}")
EVENT_ID = re.compile(r"[A-Za-z0-9_.:-]{1,128}")
PLATE = re.compile(r"[A-Z0-9]{4,10}")
COUNTRY = re.compile(r"[A-Z]{2}")
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z")
JPEG_SOI, JPEG_EOI = b"\xff\xd8\xff", b"\xff\xd9"


class InvalidEvent(DeviceProtocolError):
    """A camera event that breaks the format; `field` names the part that is wrong."""

    def __init__(self, device: str, field: str, reason: str) -> None:
        super().__init__(device, f"{field}: {reason}")
        self.field, self.reason = field, reason


@dataclass(frozen=True, slots=True)
class PlateRead:
    camera: str
    event_id: str
    plate: str
    country: str
    confidence: float
    timestamp: datetime
    snapshot_jpeg: bytes


def format_timestamp(moment: datetime) -> str:
    """RFC 3339 UTC with milliseconds and `Z`, as the events carry it."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def encode_event(read: PlateRead) -> bytes:
    return json.dumps(
        {
            "camera": read.camera,
            "event_id": read.event_id,
            "plate": read.plate,
            "country": read.country,
            "confidence": read.confidence,
            "timestamp": format_timestamp(read.timestamp),
            "snapshot_jpeg": base64.b64encode(read.snapshot_jpeg).decode("ascii"),
        },
        separators=(",", ":"),
    ).encode()


def decode_event(
    device: str, data: bytes, max_snapshot_bytes: int = MAX_SNAPSHOT_BYTES
) -> PlateRead:
    fields = _object(device, data)
    text = {name: _text(device, fields, name) for name in FIELDS if name != "confidence"}
    for name, pattern, rule in (
        ("camera", CAMERA_ID, "1..64 of A-Z a-z 0-9 _ . -"),
        ("event_id", EVENT_ID, "1..128 of A-Z a-z 0-9 _ . : -"),
        ("plate", PLATE, "4..10 capital Latin letters and digits, no separators"),
        ("country", COUNTRY, "an ISO 3166-1 alpha-2 code in capitals"),
    ):
        if not pattern.fullmatch(text[name]):
            raise InvalidEvent(device, name, f"{_shown(text[name])} is not {rule}")
    return PlateRead(
        camera=text["camera"],
        event_id=text["event_id"],
        plate=text["plate"],
        country=text["country"],
        confidence=_confidence(device, fields["confidence"]),
        timestamp=_timestamp(device, text["timestamp"]),
        snapshot_jpeg=_snapshot(device, text["snapshot_jpeg"], max_snapshot_bytes),
    )


def _object(device: str, data: bytes) -> dict[str, object]:
    try:
        fields = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise InvalidEvent(device, "body", "not a UTF-8 JSON document") from None
    if not isinstance(fields, dict):
        raise InvalidEvent(device, "body", "not a JSON object")
    unknown = sorted(set(fields) - set(FIELDS))
    if unknown:
        raise InvalidEvent(device, unknown[0][:40], "unknown field")
    missing = [name for name in FIELDS if name not in fields]
    if missing:
        raise InvalidEvent(device, missing[0], "missing")
    return fields


def _text(device: str, fields: dict[str, object], name: str) -> str:
    value = fields[name]
    if not isinstance(value, str):
        raise InvalidEvent(device, name, f"a string expected, not {type(value).__name__}")
    return value


def _shown(value: str) -> str:
    return repr(value if len(value) <= 40 else value[:40] + "...")


def _confidence(device: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidEvent(device, "confidence", "a number expected")
    if not 0 <= value <= 1:  # NaN and the infinities fail this too
        raise InvalidEvent(device, "confidence", f"{value} is outside 0..1")
    return float(value)


def _timestamp(device: str, value: str) -> datetime:
    if not TIMESTAMP.fullmatch(value):
        raise InvalidEvent(device, "timestamp", f"{_shown(value)} is not RFC 3339 UTC (...Z)")
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidEvent(device, "timestamp", f"{_shown(value)} is not a real time") from None


def _snapshot(device: str, value: str, limit: int) -> bytes:
    if len(value) > (limit + 2) // 3 * 4:  # refused before decoding it
        raise InvalidEvent(device, "snapshot_jpeg", f"larger than {limit} bytes")
    try:
        jpeg = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidEvent(device, "snapshot_jpeg", "not standard padded base64") from None
    if len(jpeg) > limit:
        raise InvalidEvent(device, "snapshot_jpeg", f"larger than {limit} bytes")
    if not (jpeg.startswith(JPEG_SOI) and jpeg.endswith(JPEG_EOI)):
        raise InvalidEvent(device, "snapshot_jpeg", "not a JPEG (no SOI/EOI markers)")
    return jpeg
