"""Digital I/O module registers <-> values (DESIGN 5.1). Pure.

Inputs are FC2 discrete inputs 0..15, outputs FC1/FC5/FC15 coils 0..15. The communication
watchdog lives in holding 0x1000 (timeout ms, 0 = off), 0x1001 (safe output pattern, bit n
= coil n; also the power-on state) and 0x1002 (status, 1 = tripped; write 0 to re-arm).
Input registers 0..1 identify the module.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from controller.errors import DeviceProtocolError

INPUT_COUNT = 16
OUTPUT_COUNT = 16
WATCHDOG_TIMEOUT_ADDRESS = 0x1000
WATCHDOG_SAFE_PATTERN_ADDRESS = 0x1001
WATCHDOG_STATUS_ADDRESS = 0x1002
IDENTITY_ADDRESS = 0
MODEL_CODE = 0x1214
FIRMWARE_VERSION = 0x0100


def pattern_to_bits(pattern: int, count: int = 16) -> tuple[bool, ...]:
    if not 0 < count <= 16:
        raise ValueError(f"count: {count} is not within 1..16")
    if not 0 <= pattern < 1 << count:
        raise ValueError(f"pattern: {pattern} does not fit in {count} bits")
    return tuple(bool(pattern >> n & 1) for n in range(count))


def bits_to_pattern(bits: Sequence[bool]) -> int:
    if len(bits) > 16:
        raise ValueError(f"bits: {len(bits)} bits do not fit in one register")
    return sum(1 << n for n, bit in enumerate(bits) if bit)


@dataclass(frozen=True, slots=True)
class IoIdentity:
    model_code: int
    firmware: int

    def __str__(self) -> str:
        return f"model {self.model_code:#06x}, firmware {self.firmware >> 8}.{self.firmware & 0xFF}"


def decode_identity(device: str, registers: Sequence[int]) -> IoIdentity:
    regs = list(registers)
    if len(regs) != 2:
        raise DeviceProtocolError(device, f"identity: expected 2 input registers, got {len(regs)}")
    return IoIdentity(regs[0], regs[1])
