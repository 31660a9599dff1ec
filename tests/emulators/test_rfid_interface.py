"""The reader's wire side, byte by byte: DESIGN 5.4 golden vectors, addressing, status
codes, the 15 ms sync rule, scan-mode pushes; any bytes in give frames or nothing."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.rfid.codec import (
    RfidCommand,
    RfidStatus,
    RfidStreamParser,
    decode_response,
    encode_command,
)
from emulators.rfid.interface import READER_INFO, RfidInterface
from emulators.rfid.model import RfidModel, WorkMode

EPC = bytes.fromhex("2000708C2B380B2D00000000")
INVENTORY_TO_0 = bytes.fromhex("04 00 01 DB 4B")
INVENTORY_BROADCAST = bytes.fromhex("04 FF 01 1B B4")
ONE_TAG_REPLY = bytes.fromhex("13 00 01 01 01 0C 20 00 70 8C 2B 38 0B 2D 00 00 00 00 37 09")
PUSH = bytes.fromhex("11 00 EE 00 20 00 70 8C 2B 38 0B 2D 00 00 00 00 E0 56")


def reader(address: int = 0, *, tag: bool = True) -> RfidInterface:
    model = RfidModel(read_probability=1.0, first_read_s=0.0)
    if tag:
        model.set_tag(EPC, 4.0)
    return RfidInterface(model, address)


def status_of(interface: RfidInterface, frame: bytes, now: float = 0.0) -> tuple[int, int]:
    [reply] = interface.receive(frame, now)
    response = decode_response("r", reply)
    return response.recmd, response.status


@pytest.mark.parametrize("request_frame", [INVENTORY_TO_0, INVENTORY_BROADCAST])
def test_one_tag_inventory_gives_the_golden_reply(request_frame: bytes) -> None:
    assert reader().receive(request_frame) == [ONE_TAG_REPLY]


def test_an_empty_field_answers_no_tag() -> None:
    assert status_of(reader(tag=False), INVENTORY_TO_0) == (0x01, RfidStatus.NO_TAG)


def test_a_reader_answers_its_own_address_and_broadcast_only() -> None:
    interface = reader(address=5)
    assert interface.receive(INVENTORY_TO_0) == []
    [reply] = interface.receive(INVENTORY_BROADCAST)
    assert decode_response("r", reply).address == 5
    [reply] = interface.receive(encode_command(5, RfidCommand.INVENTORY))
    assert decode_response("r", reply).address == 5


def test_reader_info_and_scan_time() -> None:
    interface = reader()
    [reply] = interface.receive(encode_command(0, RfidCommand.READER_INFO))
    info = decode_response("r", reply)
    assert (info.status, info.data) == (RfidStatus.OK, READER_INFO)
    ok = (RfidCommand.SCAN_TIME, RfidStatus.OK)
    assert status_of(interface, encode_command(0, RfidCommand.SCAN_TIME, b"\x1e")) == ok
    assert interface.model.scan_time_ds == 30


@pytest.mark.parametrize(
    ("command", "data", "status"),
    [
        (0x77, b"", RfidStatus.ILLEGAL_COMMAND),
        (RfidCommand.INVENTORY, b"\x00", RfidStatus.WRONG_LENGTH),
        (RfidCommand.READER_INFO, b"\x00", RfidStatus.WRONG_LENGTH),
        (RfidCommand.SCAN_TIME, b"\x0a\x00", RfidStatus.WRONG_LENGTH),
        (RfidCommand.SCAN_TIME, b"\x02", RfidStatus.BAD_PARAMETER),
        (RfidCommand.WORK_MODE, b"", RfidStatus.WRONG_LENGTH),
        (RfidCommand.WORK_MODE, b"\x02", RfidStatus.BAD_PARAMETER),
    ],
)
def test_refusals_carry_the_readers_status_codes(command: int, data: bytes, status: int) -> None:
    interface = reader()
    assert status_of(interface, encode_command(0, command, data)) == (command, status)
    assert interface.model.scan_time_ds == 10
    assert interface.model.mode == WorkMode.ANSWER


def test_a_tid_inventory_with_two_data_bytes_is_accepted() -> None:
    inventory = encode_command(0, RfidCommand.INVENTORY, b"\x00\x04")
    assert status_of(reader(), inventory) == (0x01, RfidStatus.INVENTORY_DONE)


def test_a_crc_error_answers_0xfe_once_unless_a_good_frame_came_with_it() -> None:
    corrupt = bytearray(INVENTORY_TO_0)
    corrupt[-1] ^= 0xFF
    interface = reader()
    assert status_of(interface, bytes(corrupt)) == (0x00, RfidStatus.ILLEGAL_COMMAND)
    assert interface.receive(bytes(corrupt) + INVENTORY_TO_0, 1.0) == [ONE_TAG_REPLY]


def test_a_frame_split_within_15_ms_is_answered_and_one_cut_by_a_gap_is_dropped() -> None:
    interface = reader()
    assert interface.receive(INVENTORY_TO_0[:2], 1.000) == []
    assert interface.receive(INVENTORY_TO_0[2:], 1.010) == [ONE_TAG_REPLY]
    assert interface.receive(INVENTORY_TO_0[:3], 2.000) == []
    assert interface.receive(INVENTORY_TO_0[3:], 2.020) == []  # the gap lost sync: silence
    assert interface.receive(INVENTORY_TO_0, 2.030) == [ONE_TAG_REPLY]


def test_scan_mode_pushes_the_captured_frame() -> None:
    interface = reader()
    work_mode = encode_command(0, RfidCommand.WORK_MODE, bytes([1, 0, 1, 2, 6, 0]))
    assert status_of(interface, work_mode) == (RfidCommand.WORK_MODE, RfidStatus.OK)
    assert interface.continuous() is None
    interface.model.advance(0.2)
    assert interface.continuous() == PUSH
    assert interface.continuous() is None  # drained
    interface.model.advance(0.4)
    assert interface.continuous() == PUSH * 2
    interface.receive(encode_command(0, RfidCommand.WORK_MODE, b"\x00"))
    interface.model.advance(1.0)
    assert interface.continuous() is None


def test_an_impossible_address_is_refused() -> None:
    with pytest.raises(ValueError, match="address"):
        RfidInterface(RfidModel(), 256)


@settings(max_examples=80)
@given(st.lists(st.binary(max_size=40), max_size=8))
def test_any_bytes_give_well_formed_replies_or_silence(chunks: list[bytes]) -> None:
    interface, parser = reader(), RfidStreamParser("r")
    for at, chunk in enumerate(chunks):
        for reply in interface.receive(chunk, at * 0.001):
            [response] = parser.feed(reply, 0.0)
            assert not isinstance(response, Exception), response
            assert response.address == 0
