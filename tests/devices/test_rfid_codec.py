"""RFID reader frames: DESIGN 5.4's golden vectors, CRC, inventory parsing, resync."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from controller.errors import DeviceProtocolError
from devices.rfid.codec import (
    RfidCommand,
    RfidCommandParser,
    RfidRequest,
    RfidResponse,
    RfidStreamParser,
    crc16_mcrf4xx,
    decode_response,
    encode_command,
    encode_inventory_reply,
    encode_push,
    parse_inventory,
)

EPC = bytes.fromhex("2000708C2B380B2D00000000")
ONE_TAG = bytes.fromhex("13 00 01 01 01 0C 20 00 70 8C 2B 38 0B 2D 00 00 00 00 37 09")
PUSH = bytes.fromhex("11 00 EE 00 20 00 70 8C 2B 38 0B 2D 00 00 00 00 E0 56")


def test_golden_vectors() -> None:
    assert encode_command(0, RfidCommand.INVENTORY) == bytes.fromhex("04 00 01 DB 4B")
    assert encode_command(0xFF, RfidCommand.INVENTORY) == bytes.fromhex("04 FF 01 1B B4")
    assert encode_inventory_reply(0, [EPC]) == ONE_TAG
    assert encode_push(0, EPC) == PUSH
    assert parse_inventory("rfid", decode_response("rfid", ONE_TAG)) == (EPC,)
    assert crc16_mcrf4xx(ONE_TAG) == 0


def _crc_bit_by_bit(data: bytes) -> int:
    crc = 0xFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x8408 if crc & 1 else crc >> 1
    return crc


@given(st.binary(max_size=64))
def test_table_crc_matches_the_bitwise_definition(data: bytes) -> None:
    assert crc16_mcrf4xx(data) == _crc_bit_by_bit(data)


def test_no_tag_and_error_statuses() -> None:
    empty = decode_response("rfid", encode_inventory_reply(0, []))
    assert parse_inventory("rfid", empty) == ()
    with pytest.raises(DeviceProtocolError, match="status 0xfe"):
        parse_inventory("rfid", RfidResponse(0, 1, 0xFE, b""))
    with pytest.raises(DeviceProtocolError, match="disagree"):
        parse_inventory("rfid", RfidResponse(0, 1, 1, bytes([2, 12]) + EPC))


@given(st.lists(st.binary(min_size=1, max_size=16), max_size=8))
def test_inventory_round_trip(epcs: list[bytes]) -> None:
    reply = decode_response("rfid", encode_inventory_reply(0, epcs))
    assert parse_inventory("rfid", reply) == tuple(epcs)


@pytest.mark.parametrize("cut", range(1, len(ONE_TAG)))
def test_split_at_any_byte(cut: int) -> None:
    parser = RfidStreamParser("rfid")
    assert parser.feed(ONE_TAG[:cut], 0.0) == []
    [response] = parser.feed(ONE_TAG[cut:], 0.005)
    assert isinstance(response, RfidResponse)


def test_a_gap_inside_a_frame_loses_sync_then_recovers() -> None:
    parser = RfidStreamParser("rfid")
    assert parser.feed(ONE_TAG[:6], 0.0) == []
    items = parser.feed(ONE_TAG[6:] + PUSH, 0.050)  # 50 ms gap: the partial frame is lost
    assert isinstance(items[0], DeviceProtocolError)
    assert "gap" in str(items[0])
    assert any(isinstance(i, RfidResponse) and i.recmd == 0xEE for i in items)


@given(st.binary(max_size=120))
def test_garbage_then_a_good_frame(garbage: bytes) -> None:
    parser = RfidStreamParser("rfid")
    items = parser.feed(garbage, 0.0)
    assert all(isinstance(i, RfidResponse | DeviceProtocolError) for i in items)
    # a partial frame left by the garbage is dropped by the gap; the next frame decodes
    after = parser.feed(PUSH, 1.0)
    assert any(
        (isinstance(i, RfidResponse) and i.data == b"\x00" + EPC)
        or (isinstance(i, RfidResponse) and i.recmd == 0xEE)
        for i in after
    )


def test_command_parser_for_the_emulator() -> None:
    items = RfidCommandParser("rfid").feed(encode_command(0, 0x21) + b"\x00\x01", 0.0)
    assert items[0] == RfidRequest(0, 0x21, b"")
