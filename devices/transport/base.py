"""The transport interfaces drivers are written against.

Theory of operation: a driver never sees pymodbus, pyserial or a socket. It holds either a
`ModbusUnit` (one unit id on one Modbus link: a TCP connection or an RS-485 bus) or a
`ByteStream` (a serial line). Implementations map every foreign exception to our errors at
this boundary (`DeviceTimeout`, `DeviceProtocolError`, `DeviceRefused`, `DeviceBroken`,
`DeviceClosed` from controller.errors), as httpcore does with its backends.

Modbus addresses are 0-based PDU addresses. One request at a time per link: links
serialise their transactions internally, so units sharing an RS-485 bus can be polled
from several tasks safely.

The in-memory side: a `ModbusResponder` is what an emulator exposes to answer PDUs
directly (no bytes), and `MemoryHub` is where in-memory endpoints are registered by name
(`memory://NAME` URLs), so tests and simulations run without sockets or ptys.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Protocol


class ModbusFunction(IntEnum):
    READ_COILS = 1
    READ_DISCRETE_INPUTS = 2
    READ_HOLDING_REGISTERS = 3
    READ_INPUT_REGISTERS = 4
    WRITE_SINGLE_COIL = 5
    WRITE_SINGLE_REGISTER = 6
    WRITE_MULTIPLE_COILS = 15
    WRITE_MULTIPLE_REGISTERS = 16


class ModbusExceptionCode(IntEnum):
    ILLEGAL_FUNCTION = 1
    ILLEGAL_DATA_ADDRESS = 2
    ILLEGAL_DATA_VALUE = 3
    SERVER_DEVICE_FAILURE = 4
    SERVER_DEVICE_BUSY = 6


@dataclass(frozen=True, slots=True)
class ModbusRequest:
    """One PDU-level request. `values` holds the written values (0/1 for coils)."""

    function: ModbusFunction
    address: int
    count: int = 0
    values: tuple[int, ...] = ()


class ModbusExceptionReply(Exception):  # a reply to send, not an error of ours
    """Raised by a `ModbusResponder` to answer with a Modbus exception code."""

    def __init__(self, code: ModbusExceptionCode) -> None:
        super().__init__(f"modbus exception {int(code)} ({code.name})")
        self.code = code


class ModbusResponder(Protocol):
    """An emulated Modbus server, answering PDUs in memory. Reads return the values read;
    writes return the echoed values. Raise `ModbusExceptionReply` for an exception reply,
    `TimeoutError` to stay silent (the client sees a `DeviceTimeout`)."""

    def respond(self, unit: int, request: ModbusRequest) -> tuple[int, ...]: ...


class ModbusUnit(Protocol):
    """One unit id on one Modbus link."""

    @property
    def name(self) -> str: ...

    async def read_coils(self, address: int, count: int) -> list[bool]: ...
    async def read_discrete_inputs(self, address: int, count: int) -> list[bool]: ...
    async def read_holding_registers(self, address: int, count: int) -> list[int]: ...
    async def read_input_registers(self, address: int, count: int) -> list[int]: ...
    async def write_coil(self, address: int, value: bool) -> None: ...
    async def write_coils(self, address: int, values: Sequence[bool]) -> None: ...
    async def write_register(self, address: int, value: int) -> None: ...
    async def write_registers(self, address: int, values: Sequence[int]) -> None: ...


def table_reader(unit: ModbusUnit, table: str) -> Callable[[int, int], Awaitable[Sequence[int]]]:
    """The read of one Modbus table (coils, discrete, holding, input) on `unit`."""
    reads: dict[str, Callable[[int, int], Awaitable[Sequence[int]]]] = {
        "coils": unit.read_coils,
        "discrete": unit.read_discrete_inputs,
        "holding": unit.read_holding_registers,
        "input": unit.read_input_registers,
    }
    return reads[table]


class ByteStream(Protocol):
    """A serial line (or a pipe standing in for one)."""

    @property
    def name(self) -> str: ...

    async def write(self, data: bytes) -> None: ...

    async def read(self, max_bytes: int = 4096) -> bytes:
        """Wait for at least one byte; `DeviceBroken` when the line is gone."""
        ...

    def discard_input(self) -> None:
        """Drop bytes already received but not read (late replies, line noise)."""
        ...

    async def close(self) -> None: ...


@dataclass(slots=True)
class MemoryHub:
    """Named in-memory endpoints: `memory://NAME` resolves here.

    Emulators register their responders (Modbus) or the device end of a byte pipe
    (serial); transports look them up. One hub per simulated world keeps tests apart.
    """

    modbus: dict[str, ModbusResponder] = field(default_factory=dict)
    serial: dict[str, ByteStream] = field(default_factory=dict)
