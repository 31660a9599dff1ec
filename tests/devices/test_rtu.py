"""RTU framing and the Modbus PDU codec: golden vectors, errors, round trips, fuzzing."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pymodbus.framer import FramerRTU
from pymodbus.pdu import DecodePDU
from pymodbus.pdu.bit_message import WriteMultipleCoilsRequest
from pymodbus.pdu.register_message import WriteMultipleRegistersRequest

from controller.errors import DeviceProtocolError, DeviceRefused
from devices.modbus.rtu import (
    crc16_modbus,
    decode_adu,
    decode_request_pdu,
    decode_response_pdu,
    encode_adu,
    encode_exception_pdu,
    encode_request_pdu,
    encode_response_pdu,
    request_frame_length,
    response_frame_length,
)
from devices.transport.base import (
    ModbusExceptionCode,
    ModbusExceptionReply,
    ModbusFunction,
    ModbusRequest,
)

F = ModbusFunction
FUZZ = settings(max_examples=300, derandomize=True, deadline=None)


def test_crc_check_value_and_a_known_frame() -> None:
    assert crc16_modbus(b"123456789") == 0x4B37
    assert encode_adu(1, bytes.fromhex("0300000001")) == bytes.fromhex("010300000001840a")


def test_decode_adu_returns_unit_and_pdu() -> None:
    assert decode_adu("bus", bytes.fromhex("010300000001840a")) == (1, bytes.fromhex("0300000001"))


@pytest.mark.parametrize(
    "adu",
    [bytes.fromhex("010300000001840b"), b"\x01\x03\x00", bytes(300)],
    ids=["crc", "short", "long"],
)
def test_decode_adu_rejects_bad_frames(adu: bytes) -> None:
    with pytest.raises(DeviceProtocolError):
        decode_adu("bus", adu)


@pytest.mark.parametrize(
    ("buf", "size"),
    [
        (b"\x01", None),
        (b"\x01\x03", 8),
        (b"\x01\x05\x00", 8),
        (b"\x01\x0f\x00\x00\x00\x10", None),
        (b"\x01\x0f\x00\x00\x00\x10\x02", 11),
        (b"\x01\x10\x00\x64\x00\x02\x04", 13),
        (b"\x01\x2b\x0e\x01\x00", None),
    ],
)
def test_request_frame_length(buf: bytes, size: int | None) -> None:
    assert request_frame_length(buf) == size


@pytest.mark.parametrize(
    ("buf", "size"),
    [
        (b"\x01\x83", 5),
        (b"\x01\x03", None),
        (b"\x01\x03\x04", 9),
        (b"\x01\x06", 8),
        (b"\x01\x2b", None),
    ],
)
def test_response_frame_length(buf: bytes, size: int | None) -> None:
    assert response_frame_length(buf) == size


REQUESTS = [
    ModbusRequest(F.READ_COILS, 0, 8),
    ModbusRequest(F.READ_DISCRETE_INPUTS, 3, 16),
    ModbusRequest(F.READ_HOLDING_REGISTERS, 100, 7),
    ModbusRequest(F.READ_INPUT_REGISTERS, 0, 2),
    ModbusRequest(F.WRITE_SINGLE_COIL, 1, 1, (1,)),
    ModbusRequest(F.WRITE_SINGLE_REGISTER, 106, 1, (1,)),
    ModbusRequest(F.WRITE_MULTIPLE_COILS, 0, 10, (1, 0, 1, 1, 0, 0, 0, 0, 1, 1)),
    ModbusRequest(F.WRITE_MULTIPLE_REGISTERS, 0x1000, 2, (300, 0x000F)),
]


@pytest.mark.parametrize("request_", REQUESTS, ids=lambda r: r.function.name)
def test_request_pdu_round_trip(request_: ModbusRequest) -> None:
    pdu = encode_request_pdu(request_)
    assert decode_request_pdu("dev", pdu) == request_
    assert request_frame_length(encode_adu(7, pdu) + b"junk") == len(pdu) + 3


@pytest.mark.parametrize("request_", REQUESTS, ids=lambda r: r.function.name)
def test_our_requests_decode_in_pymodbus(request_: ModbusRequest) -> None:
    framer = FramerRTU(DecodePDU(True))
    _used, pdu = framer.handleFrame(encode_adu(7, encode_request_pdu(request_)), 0, 0)
    assert pdu is not None
    assert (pdu.dev_id, pdu.function_code, pdu.address) == (7, request_.function, request_.address)


def test_pymodbus_write_requests_decode_here() -> None:
    coils = WriteMultipleCoilsRequest(address=3, bits=[True, False, True], dev_id=2)
    regs = WriteMultipleRegistersRequest(address=0x1000, registers=[500, 9], dev_id=2)
    framer = FramerRTU(DecodePDU(False))
    assert decode_request_pdu("dev", decode_adu("dev", framer.buildFrame(coils))[1]) == (
        ModbusRequest(F.WRITE_MULTIPLE_COILS, 3, 3, (1, 0, 1))
    )
    assert decode_request_pdu("dev", decode_adu("dev", framer.buildFrame(regs))[1]) == (
        ModbusRequest(F.WRITE_MULTIPLE_REGISTERS, 0x1000, 2, (500, 9))
    )


@pytest.mark.parametrize(
    ("pdu", "code"),
    [
        (b"\x2b\x0e\x01\x00", ModbusExceptionCode.ILLEGAL_FUNCTION),
        (b"\x03\x00\x00\x00\x00", ModbusExceptionCode.ILLEGAL_DATA_VALUE),
        (b"\x03\x00\x00\x00\x7e", ModbusExceptionCode.ILLEGAL_DATA_VALUE),
        (b"\x01\xff\xff\x00\x02", ModbusExceptionCode.ILLEGAL_DATA_ADDRESS),
        (b"\x05\x00\x01\x12\x34", ModbusExceptionCode.ILLEGAL_DATA_VALUE),
        (b"\x0f\x00\x00\x00\x10\x01\xff", ModbusExceptionCode.ILLEGAL_DATA_VALUE),
        (b"\x10\x00\x00\x00\x01\x01\x00", ModbusExceptionCode.ILLEGAL_DATA_VALUE),
    ],
)
def test_requests_a_server_refuses(pdu: bytes, code: ModbusExceptionCode) -> None:
    with pytest.raises(ModbusExceptionReply) as caught:
        decode_request_pdu("dev", pdu)
    assert caught.value.code == code


@pytest.mark.parametrize(
    "pdu", [b"", b"\x03\x00", b"\x06\x00\x01\x00\x01\x00", b"\x10\x00\x00\x00\x01\x02\x00"]
)
def test_malformed_request_pdus(pdu: bytes) -> None:
    with pytest.raises(DeviceProtocolError):
        decode_request_pdu("dev", pdu)


@pytest.mark.parametrize(
    ("request_", "values", "pdu"),
    [
        (REQUESTS[0], (1, 0, 0, 0, 0, 0, 0, 1), "010181"),
        (REQUESTS[1], (1,) * 9 + (0,) * 7, "0202ff01"),
        (REQUESTS[3], (0x1214, 0x0100), "040412140100"),
        (REQUESTS[4], (1,), "050001ff00"),
        (REQUESTS[6], REQUESTS[6].values, "0f0000000a"),
    ],
)
def test_response_pdu_golden_and_round_trip(
    request_: ModbusRequest, values: tuple[int, ...], pdu: str
) -> None:
    encoded = encode_response_pdu(request_, values)
    assert encoded == bytes.fromhex(pdu)
    assert decode_response_pdu("dev", request_, encoded) == values


def test_exception_response_is_refused_with_its_code() -> None:
    request = REQUESTS[4]
    with pytest.raises(DeviceRefused) as caught:
        decode_response_pdu("dev", request, encode_exception_pdu(request.function, 2))
    assert caught.value.code == 2


@pytest.mark.parametrize(
    "pdu",
    ["", "0304000100", "0202ff", "0500010000", "03030001"],
    ids=["empty", "fc", "count", "echo", "len"],
)
def test_bad_responses_are_protocol_errors(pdu: str) -> None:
    request = {"02": REQUESTS[1], "05": REQUESTS[4]}.get(pdu[:2], REQUESTS[2])
    with pytest.raises(DeviceProtocolError):
        decode_response_pdu("dev", request, bytes.fromhex(pdu))


@FUZZ
@given(st.binary(max_size=300))
def test_arbitrary_bytes_never_raise_anything_else(data: bytes) -> None:
    for decode in (decode_adu, decode_request_pdu):
        with contextlib.suppress(DeviceProtocolError, ModbusExceptionReply):
            decode("dev", data)
    with contextlib.suppress(DeviceProtocolError, DeviceRefused):
        decode_response_pdu("dev", REQUESTS[2], data)
    request_frame_length(data)
    response_frame_length(data)


@FUZZ
@given(st.integers(0, 247), st.binary(min_size=1, max_size=253), st.integers(0, 255))
def test_any_single_byte_error_breaks_the_crc(unit: int, pdu: bytes, flip: int) -> None:
    adu = bytearray(encode_adu(unit, pdu))
    adu[flip % len(adu)] ^= 0x5A
    with pytest.raises(DeviceProtocolError):
        decode_adu("dev", bytes(adu))
