"""Modbus RTU framing and the Modbus PDU codec (pure: no I/O, no clock).

Theory of operation: an RTU ADU is `unit | PDU | CRC-16/MODBUS` with the CRC sent low byte
first. On the wire a frame ends after 3.5 character times of silence; a reader that cannot
time the line frames by length instead, which the function code fixes for every request
(`request_frame_length`) and response (`response_frame_length`) we support. The PDU half
is shared by the RTU and TCP emulators and by raw clients (benchmarks): request PDUs <->
`ModbusRequest`, and the values read or echoed <-> response PDUs.

Two kinds of failure: bytes that break the frame or PDU layout raise `DeviceProtocolError`
naming the offending bytes; a well-formed request a server must refuse (unknown function,
count out of range, bad coil value) raises `ModbusExceptionReply` with the code a real
server answers. A client decoding an exception response gets `DeviceRefused`.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

from controller.errors import DeviceProtocolError, DeviceRefused
from devices.transport.base import (
    ModbusExceptionCode,
    ModbusExceptionReply,
    ModbusFunction,
    ModbusRequest,
)

MAX_ADU = 256
_BIT_READS = frozenset({ModbusFunction.READ_COILS, ModbusFunction.READ_DISCRETE_INPUTS})
_REG_READS = frozenset({ModbusFunction.READ_HOLDING_REGISTERS, ModbusFunction.READ_INPUT_REGISTERS})
_MAX_COUNT = {
    ModbusFunction.READ_COILS: 2000,
    ModbusFunction.READ_DISCRETE_INPUTS: 2000,
    ModbusFunction.READ_HOLDING_REGISTERS: 125,
    ModbusFunction.READ_INPUT_REGISTERS: 125,
    ModbusFunction.WRITE_MULTIPLE_COILS: 1968,
    ModbusFunction.WRITE_MULTIPLE_REGISTERS: 123,
}
_COIL_ON = 0xFF00


def _crc_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
        table.append(crc)
    return tuple(table)


_CRC_TABLE = _crc_table()


def crc16_modbus(data: bytes) -> int:
    """CRC-16/MODBUS (poly 0x8005 reflected, init 0xFFFF); on the wire low byte first."""
    crc = 0xFFFF
    for byte in data:
        crc = (crc >> 8) ^ _CRC_TABLE[(crc ^ byte) & 0xFF]
    return crc


def encode_adu(unit: int, pdu: bytes) -> bytes:
    if not 0 <= unit <= 255 or not 1 <= len(pdu) <= MAX_ADU - 3:
        raise ValueError(f"encode_adu: unit {unit} or PDU length {len(pdu)} out of range")
    frame = bytes([unit]) + pdu
    return frame + crc16_modbus(frame).to_bytes(2, "little")


def decode_adu(device: str, adu: bytes) -> tuple[int, bytes]:
    """Check length and CRC; return (unit, PDU)."""
    if not 4 <= len(adu) <= MAX_ADU:
        raise DeviceProtocolError(device, f"RTU frame of {len(adu)} bytes (4..256 allowed)", adu)
    got = int.from_bytes(adu[-2:], "little")
    if (want := crc16_modbus(adu[:-2])) != got:
        raise DeviceProtocolError(device, f"RTU CRC 0x{got:04x}, computed 0x{want:04x}", adu)
    return adu[0], adu[1:-2]


def request_frame_length(buf: bytes | bytearray) -> int | None:
    """Bytes of the RTU request starting `buf`, or None: need more bytes, or a function
    whose length we cannot tell (the t3.5 silence must end that frame)."""
    if len(buf) < 2:
        return None
    if 1 <= buf[1] <= 6:
        return 8
    if buf[1] in (15, 16):
        return 9 + buf[6] if len(buf) >= 7 else None
    return None


def response_frame_length(buf: bytes | bytearray) -> int | None:
    """Bytes of the RTU response starting `buf`, or None (need more, or unknown function)."""
    if len(buf) < 2:
        return None
    function = buf[1]
    if function & 0x80:
        return 5
    if 1 <= function <= 4:
        return 5 + buf[2] if len(buf) >= 3 else None
    if function in (5, 6, 15, 16):
        return 8
    return None


def _pack_bits(values: Sequence[int]) -> bytes:
    out = bytearray((len(values) + 7) // 8)
    for index, value in enumerate(values):
        if value:
            out[index // 8] |= 1 << (index % 8)
    return bytes(out)


def _unpack_bits(data: bytes, count: int) -> tuple[int, ...]:
    return tuple((data[i // 8] >> (i % 8)) & 1 for i in range(count))


def _expect_len(device: str, pdu: bytes, function: ModbusFunction, length: int) -> None:
    if len(pdu) != length:
        raise DeviceProtocolError(
            device, f"{function.name} PDU of {len(pdu)} bytes, expected {length}", pdu
        )


def _check_count(function: ModbusFunction, address: int, count: int) -> None:
    if not 1 <= count <= _MAX_COUNT[function]:
        raise ModbusExceptionReply(ModbusExceptionCode.ILLEGAL_DATA_VALUE)
    if address + count > 0x10000:
        raise ModbusExceptionReply(ModbusExceptionCode.ILLEGAL_DATA_ADDRESS)


def decode_request_pdu(device: str, pdu: bytes) -> ModbusRequest:
    if not pdu:
        raise DeviceProtocolError(device, "empty Modbus PDU")
    try:
        function = ModbusFunction(pdu[0])
    except ValueError:
        raise ModbusExceptionReply(ModbusExceptionCode.ILLEGAL_FUNCTION) from None
    if function in (ModbusFunction.WRITE_MULTIPLE_COILS, ModbusFunction.WRITE_MULTIPLE_REGISTERS):
        return _decode_write_multiple(device, function, pdu)
    _expect_len(device, pdu, function, 5)
    address, word = struct.unpack(">HH", pdu[1:5])
    if function == ModbusFunction.WRITE_SINGLE_COIL:
        if word not in (0, _COIL_ON):
            raise ModbusExceptionReply(ModbusExceptionCode.ILLEGAL_DATA_VALUE)
        return ModbusRequest(function, address, 1, (int(word == _COIL_ON),))
    if function == ModbusFunction.WRITE_SINGLE_REGISTER:
        return ModbusRequest(function, address, 1, (word,))
    _check_count(function, address, word)
    return ModbusRequest(function, address, word)


def _decode_write_multiple(device: str, function: ModbusFunction, pdu: bytes) -> ModbusRequest:
    if len(pdu) < 6:
        raise DeviceProtocolError(device, f"{function.name} PDU of {len(pdu)} bytes", pdu)
    address, count, byte_count = struct.unpack(">HHB", pdu[1:6])
    coils = function == ModbusFunction.WRITE_MULTIPLE_COILS
    _check_count(function, address, count)
    if byte_count != ((count + 7) // 8 if coils else 2 * count):
        raise ModbusExceptionReply(ModbusExceptionCode.ILLEGAL_DATA_VALUE)
    _expect_len(device, pdu, function, 6 + byte_count)
    data = pdu[6:]
    if coils:
        return ModbusRequest(function, address, count, _unpack_bits(data, count))
    return ModbusRequest(function, address, count, struct.unpack(f">{count}H", data))


def encode_request_pdu(request: ModbusRequest) -> bytes:
    function, address = request.function, request.address
    head = struct.pack(">BH", function, address)
    if function == ModbusFunction.WRITE_SINGLE_COIL:
        return head + struct.pack(">H", _COIL_ON if request.values[0] else 0)
    if function == ModbusFunction.WRITE_SINGLE_REGISTER:
        return head + struct.pack(">H", request.values[0])
    if function == ModbusFunction.WRITE_MULTIPLE_COILS:
        bits = _pack_bits(request.values)
        return head + struct.pack(">HB", len(request.values), len(bits)) + bits
    if function == ModbusFunction.WRITE_MULTIPLE_REGISTERS:
        count = len(request.values)
        return head + struct.pack(f">HB{count}H", count, 2 * count, *request.values)
    return head + struct.pack(">H", request.count)


def encode_response_pdu(request: ModbusRequest, values: Sequence[int]) -> bytes:
    """The normal response to `request`; `values` are the values read (or echoed)."""
    function, address = request.function, request.address
    if function in _BIT_READS or function in _REG_READS:
        if len(values) != request.count:
            raise ValueError(f"{function.name}: {len(values)} values for count {request.count}")
        if function in _BIT_READS:
            data = _pack_bits(values)
        else:
            data = struct.pack(f">{len(values)}H", *values)
        return struct.pack(">BB", function, len(data)) + data
    if function == ModbusFunction.WRITE_SINGLE_COIL:
        return struct.pack(">BHH", function, address, _COIL_ON if values[0] else 0)
    if function == ModbusFunction.WRITE_SINGLE_REGISTER:
        return struct.pack(">BHH", function, address, values[0])
    return struct.pack(">BHH", function, address, request.count)


def encode_exception_pdu(function: int, code: int) -> bytes:
    return bytes([(function | 0x80) & 0xFF, code & 0xFF])


def decode_response_pdu(device: str, request: ModbusRequest, pdu: bytes) -> tuple[int, ...]:
    """The values of the response to `request`: read values, or the echoed written ones."""
    function = request.function
    if len(pdu) == 2 and pdu[0] == function | 0x80:
        raise DeviceRefused(device, f"{function.name} at {request.address} refused", pdu[1])
    if not pdu or pdu[0] != function:
        raise DeviceProtocolError(device, f"response does not answer {function.name}", pdu)
    if function in _BIT_READS or function in _REG_READS:
        return _decode_read_response(device, request, pdu)
    _expect_len(device, pdu, function, 5)
    if pdu != encode_response_pdu(request, request.values):
        raise DeviceProtocolError(device, f"{function.name} echo differs from the request", pdu)
    return request.values


def _decode_read_response(device: str, request: ModbusRequest, pdu: bytes) -> tuple[int, ...]:
    function, count = request.function, request.count
    bits = function in _BIT_READS
    byte_count = (count + 7) // 8 if bits else 2 * count
    _expect_len(device, pdu, function, 2 + byte_count)
    if pdu[1] != byte_count:
        raise DeviceProtocolError(device, f"{function.name} byte count {pdu[1]}", pdu)
    if bits:
        return _unpack_bits(pdu[2:], count)
    return struct.unpack(f">{count}H", pdu[2:])
