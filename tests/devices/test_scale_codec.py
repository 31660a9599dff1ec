"""Weight indicator codecs: DESIGN 5.3's golden vectors, round trips, stream robustness."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from controller.errors import DeviceProtocolError
from devices.scale.codec import (
    SMA_UNKNOWN_REPLY,
    SmaCommand,
    SmaCommandParser,
    SmaStreamParser,
    ToledoCommandParser,
    ToledoStreamParser,
    WeightReading,
    decode_sma_reply,
    decode_toledo,
    encode_sma_command,
    encode_sma_reply,
    encode_toledo,
)

GOLDEN = bytes.fromhex("02 2A 30 20 30 32 34 35 30 30 30 30 30 30 30 30 0D 2C")
SMA_GOLDEN = b"\n 1G       24500kg \r"


def test_toledo_golden_vector() -> None:
    assert encode_toledo(24500) == GOLDEN
    reading = decode_toledo("scale", GOLDEN)
    assert reading.weight_kg == 24500
    assert not reading.motion
    assert reading.unit_kg
    assert reading.zeroed
    assert sum(GOLDEN) & 0x7F == 0


def test_toledo_spaces_for_leading_zeros_and_clone_bits() -> None:
    frame = bytearray(GOLDEN)
    frame[4] = 0x20  # leading zero sent as a space
    frame[1] &= ~0x20  # a clone that leaves the "always 1" bit clear
    frame[-1] = (-sum(frame[:-1])) & 0x7F
    assert decode_toledo("scale", bytes(frame)).weight_kg == 24500


def test_toledo_flags_and_decimal_point() -> None:
    frame = encode_toledo(12345, decimal_code=3, negative=True, motion=True, not_zeroed=True)
    reading = decode_toledo("scale", frame)
    assert reading.weight_kg == pytest.approx(-1234.5)
    assert reading.motion
    assert not reading.zeroed
    pounds = decode_toledo("scale", encode_toledo(1000, unit_kg=False))
    assert pounds.weight_kg == pytest.approx(453.59237)


@given(st.integers(0, 999_999), st.integers(0, 999_999), st.booleans(), st.booleans())
def test_toledo_round_trip(weight: int, tare: int, motion: bool, net: bool) -> None:
    reading = decode_toledo("s", encode_toledo(weight, tare, motion=motion, net=net))
    assert reading.weight_kg == weight
    assert reading.tare_kg == tare
    assert (reading.motion, reading.net) == (motion, net)


def readings(items: list[WeightReading | DeviceProtocolError]) -> list[float]:
    return [i.weight_kg for i in items if isinstance(i, WeightReading)]


@given(st.binary(max_size=200))
def test_toledo_stream_survives_garbage_and_decodes_the_next_frame(garbage: bytes) -> None:
    parser = ToledoStreamParser("scale")
    items = parser.feed(garbage)
    assert all(isinstance(i, WeightReading | DeviceProtocolError) for i in items)
    # garbage may hold a false STX: at most one sacrificial frame, then frames decode
    after = parser.feed(encode_toledo(24500) + encode_toledo(24510))
    assert 24510 in readings(after)


@pytest.mark.parametrize("cut", range(1, 18))
def test_toledo_frames_split_at_any_byte(cut: int) -> None:
    parser = ToledoStreamParser("scale")
    assert parser.feed(GOLDEN[:cut]) == []
    assert readings(parser.feed(GOLDEN[cut:])) == [24500]


def test_toledo_merged_frames_and_a_corrupt_one() -> None:
    bad = bytearray(encode_toledo(500))
    bad[7] ^= 0x01
    items = ToledoStreamParser("scale").feed(encode_toledo(100) + bytes(bad) + encode_toledo(200))
    assert readings(items) == [100, 200]
    errors = [i for i in items if isinstance(i, DeviceProtocolError)]
    assert errors
    assert "checksum" in str(errors[0])
    assert "bytes:" in str(errors[0])  # names the offending bytes


@given(st.binary(min_size=0, max_size=40))
def test_decoders_raise_only_protocol_errors(data: bytes) -> None:
    for decode in (decode_toledo, decode_sma_reply):
        try:
            reading = decode("s", data)
        except DeviceProtocolError as error:
            message = str(error)
        else:
            assert reading.raw == data
            continue
        assert message.startswith("s: ")


def test_sma_golden_reply_and_commands() -> None:
    assert encode_sma_reply(24500) == SMA_GOLDEN
    assert decode_sma_reply("scale", SMA_GOLDEN).weight_kg == 24500
    assert encode_sma_command(SmaCommand.WEIGHT) == b"\nW\r"
    with pytest.raises(DeviceProtocolError, match="did not understand"):
        decode_sma_reply("scale", SMA_UNKNOWN_REPLY)


def test_sma_motion_and_status() -> None:
    reading = decode_sma_reply("s", encode_sma_reply(-20, status="Z", motion=True))
    assert reading.motion
    assert reading.weight_kg == -20
    assert decode_sma_reply("s", encode_sma_reply(99999, status="O")).out_of_range


@given(st.binary(max_size=100))
def test_sma_stream_survives_garbage(garbage: bytes) -> None:
    parser = SmaStreamParser("scale")
    parser.feed(garbage)
    after = parser.feed(SMA_GOLDEN + SMA_GOLDEN)
    assert 24500 in readings(after)


def test_command_parsers() -> None:
    assert ToledoCommandParser().feed(b"junkZ\rT\r\rC") == ["Z", "T"]
    sma = SmaCommandParser("scale").feed(b"\nW\r\nQ\r")
    assert sma[0] == SmaCommand.WEIGHT
    assert isinstance(sma[1], DeviceProtocolError)
