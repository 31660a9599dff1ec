"""Barrier controller registers <-> values (DESIGN 5.2). Pure.

Holding 100 state, 101 position (0..100 %, 255 unknown), 102 flags, 103 last error,
104..105 completed strokes (low word first), 106 auto-close. Coils are momentary
commands: 0 stop, 1 open, 3 close, 7 reset; coils 2, 4, 5, 6 answer exception 02.
Decoding refuses what a real controller cannot say, naming the register and the value.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum, IntFlag

from controller.errors import DeviceProtocolError

STATUS_ADDRESS = 100
STATUS_COUNT = 7
AUTO_CLOSE_ADDRESS = 106
POSITION_UNKNOWN = 255


class BarrierState(IntEnum):
    UNKNOWN = 0
    OPEN = 16
    CLOSED = 17
    STOPPED = 19
    OPENING = 32
    CLOSING = 33
    FAULT = 64


class BarrierFlags(IntFlag):
    OBSTACLE = 1  # photocell
    SAFETY_EDGE = 2
    MOTOR_FAULT = 4
    LIMIT_SWITCH_FAULT = 8
    AUTO_CLOSE = 16


class BarrierCoil(IntEnum):
    STOP = 0
    OPEN = 1
    CLOSE = 3
    RESET = 7


INVALID_COILS = frozenset({2, 4, 5, 6})
_KNOWN_FLAGS = int(
    BarrierFlags.OBSTACLE
    | BarrierFlags.SAFETY_EDGE
    | BarrierFlags.MOTOR_FAULT
    | BarrierFlags.LIMIT_SWITCH_FAULT
    | BarrierFlags.AUTO_CLOSE
)


@dataclass(frozen=True, slots=True)
class BarrierStatus:
    state: BarrierState
    position: int | None  # None: the controller reports 255 (unknown)
    flags: BarrierFlags
    last_error: int
    strokes: int
    auto_close: bool

    @property
    def fully_open(self) -> bool:
        return self.state == BarrierState.OPEN and self.position == 100

    @property
    def fully_closed(self) -> bool:
        return self.state == BarrierState.CLOSED and self.position == 0

    @property
    def presence(self) -> bool:
        return bool(self.flags & (BarrierFlags.OBSTACLE | BarrierFlags.SAFETY_EDGE))


def decode_status(device: str, registers: Sequence[int]) -> BarrierStatus:
    regs = list(registers)
    if len(regs) != STATUS_COUNT:
        raise DeviceProtocolError(
            device, f"status: expected {STATUS_COUNT} registers, got {len(regs)}"
        )
    for offset, value in enumerate(regs):
        if not 0 <= value <= 0xFFFF:
            raise DeviceProtocolError(
                device, f"holding {STATUS_ADDRESS + offset}: {value} is not a register"
            )
    state, position, flags, error, low, high, auto = regs
    return BarrierStatus(
        state=_state(device, state),
        position=_position(device, position),
        flags=_flags(device, flags),
        last_error=error,
        strokes=low | high << 16,
        auto_close=_auto_close(device, auto),
    )


def _state(device: str, value: int) -> BarrierState:
    try:
        return BarrierState(value)
    except ValueError:
        raise DeviceProtocolError(device, f"holding 100: unknown state code {value}") from None


def _position(device: str, value: int) -> int | None:
    if value == POSITION_UNKNOWN:
        return None
    if not 0 <= value <= 100:
        raise DeviceProtocolError(device, f"holding 101: position {value} outside 0..100 and 255")
    return value


def _flags(device: str, value: int) -> BarrierFlags:
    if value & ~_KNOWN_FLAGS:
        raise DeviceProtocolError(device, f"holding 102: undefined flag bits in {value:#06x}")
    return BarrierFlags(value)


def _auto_close(device: str, value: int) -> bool:
    if value not in (0, 1):
        raise DeviceProtocolError(device, f"holding 106: auto-close {value} is neither 0 nor 1")
    return value == 1


def encode_status(status: BarrierStatus) -> list[int]:
    position = POSITION_UNKNOWN if status.position is None else status.position
    strokes = status.strokes & 0xFFFFFFFF
    return [
        int(status.state),
        position,
        int(status.flags),
        status.last_error & 0xFFFF,
        strokes & 0xFFFF,
        strokes >> 16,
        int(status.auto_close),
    ]
