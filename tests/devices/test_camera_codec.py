"""ANPR plate-read events: a golden vector both ways, and every rejection naming its field."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devices.camera.codec import InvalidEvent, PlateRead, decode_event, encode_event

# SOI, an APP0/JFIF header, EOI: the smallest bytes with a JPEG's markers
JPEG = bytes.fromhex("FFD8FFE000104A46494600010100000100010000FFD9")
GOLDEN = (
    b'{"camera":"L01-entry","event_id":"L01-entry-000001","plate":"29C12345","country":"VN",'
    b'"confidence":0.93,"timestamp":"2026-12-03T08:15:30.250Z",'
    b'"snapshot_jpeg":"/9j/4AAQSkZJRgABAQAAAQABAAD/2Q=="}'
)
READ = PlateRead(
    camera="L01-entry",
    event_id="L01-entry-000001",
    plate="29C12345",
    country="VN",
    confidence=0.93,
    timestamp=datetime(2026, 12, 3, 8, 15, 30, 250_000, tzinfo=UTC),
    snapshot_jpeg=JPEG,
)


def event(**changes: object) -> bytes:
    fields: dict[str, object] = json.loads(GOLDEN)
    for name, value in changes.items():
        if value is None:
            del fields[name]
        else:
            fields[name] = value
    return json.dumps(fields).encode()


def test_golden_vector_decodes_and_encodes() -> None:
    assert decode_event("cam", GOLDEN) == READ
    assert encode_event(READ) == GOLDEN


def test_an_integer_confidence_and_a_second_precision_time_are_accepted() -> None:
    read = decode_event("cam", event(confidence=1, timestamp="2026-12-03T08:15:30Z"))
    assert read.confidence == 1.0
    assert read.timestamp == datetime(2026, 12, 3, 8, 15, 30, tzinfo=UTC)


BAD = [
    (b"\xff\xfe", "body", "UTF-8 JSON"),
    (b"{not json", "body", "UTF-8 JSON"),
    (b"[1, 2]", "body", "JSON object"),
    (event(speed_kmh=12), "speed_kmh", "unknown field"),
    (event(plate=None), "plate", "missing"),
    (event(camera=7), "camera", "a string expected"),
    (event(camera="L01 entry"), "camera", "is not 1..64"),
    (event(camera="x" * 65), "camera", "is not 1..64"),
    (event(event_id=""), "event_id", "is not 1..128"),
    (event(plate="29C-123.45"), "plate", "no separators"),
    (event(plate="29c12345"), "plate", "capital"),
    (event(plate="29C"), "plate", "4..10"),
    (event(plate="29C123456789"), "plate", "4..10"),
    (event(country="VNM"), "country", "alpha-2"),
    (event(confidence="0.9"), "confidence", "a number expected"),
    (event(confidence=True), "confidence", "a number expected"),
    (event(confidence=1.01), "confidence", "outside 0..1"),
    (event(confidence=-0.1), "confidence", "outside 0..1"),
    (GOLDEN.replace(b"0.93", b"NaN"), "confidence", "outside 0..1"),
    (GOLDEN.replace(b"0.93", b"1" * 400), "confidence", "outside 0..1"),
    (event(timestamp="2026-12-03T08:15:30+07:00"), "timestamp", "RFC 3339 UTC"),
    (event(timestamp="2026-12-03 08:15:30Z"), "timestamp", "RFC 3339 UTC"),
    (event(timestamp="2026-13-03T08:15:30Z"), "timestamp", "not a real time"),
    (event(snapshot_jpeg="/9j/4AAQ*"), "snapshot_jpeg", "base64"),
    (event(snapshot_jpeg="/9j/4AAQSkZJRgABAQAAAQABAAD/2Q"), "snapshot_jpeg", "base64"),
    (event(snapshot_jpeg=base64.b64encode(b"GIF89a..").decode()), "snapshot_jpeg", "SOI/EOI"),
    (event(snapshot_jpeg=base64.b64encode(JPEG[:-2]).decode()), "snapshot_jpeg", "SOI/EOI"),
]


@pytest.mark.parametrize(("data", "field", "reason"), BAD)
def test_every_rejection_names_its_field(data: bytes, field: str, reason: str) -> None:
    with pytest.raises(InvalidEvent) as caught:
        decode_event("L01-camera", data)
    assert caught.value.field == field
    assert reason in caught.value.reason
    message = str(caught.value)
    assert message.startswith(f"L01-camera: {field}: ")
    assert "\n" not in message


def test_a_snapshot_over_the_limit_is_refused_before_and_after_decoding() -> None:
    big = JPEG[:-2] + bytes(2000) + JPEG[-2:]
    data = event(snapshot_jpeg=base64.b64encode(big).decode())
    assert decode_event("cam", data, max_snapshot_bytes=len(big)).snapshot_jpeg == big
    for limit in (len(big) - 1, 1000):
        with pytest.raises(InvalidEvent, match="snapshot_jpeg: larger than"):
            decode_event("cam", data, max_snapshot_bytes=limit)


@given(st.binary(max_size=300))
def test_arbitrary_bytes_give_an_event_or_a_protocol_error(data: bytes) -> None:
    check_decodes_or_refuses(data)


@given(
    st.dictionaries(
        st.sampled_from(["camera", "event_id", "plate", "country", "confidence", "timestamp"]),
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    )
)
def test_arbitrary_field_values_give_an_event_or_a_protocol_error(
    fields: dict[str, object],
) -> None:
    check_decodes_or_refuses(event(**{k: v for k, v in fields.items() if v is not None}))


def check_decodes_or_refuses(data: bytes) -> None:
    """An accepted event survives a round trip; a refused one says which field."""
    try:
        read = decode_event("cam", data)
    except InvalidEvent as error:
        refused: InvalidEvent | None = error
    else:
        refused = None
        assert decode_event("cam", encode_event(read)) == read
    assert refused is None or refused.field  # anything else escapes and fails the test
