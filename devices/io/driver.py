"""The I/O module driver: a thin async adapter over one Modbus unit (DESIGN 5.1).

All it knows is the register map: inputs are one FC2 read of 16 discrete inputs, the
output image is written as ONE FC15 over all 16 coils (so a head is never dark nor
red-and-green between two writes), and the watchdog is armed safe pattern first, then
the timeout (so it never trips into an unset pattern).
"""

from __future__ import annotations

from collections.abc import Sequence

from controller.errors import DeviceProtocolError
from devices.bounded import Bounded
from devices.io.codec import (
    IDENTITY_ADDRESS,
    INPUT_COUNT,
    OUTPUT_COUNT,
    WATCHDOG_SAFE_PATTERN_ADDRESS,
    WATCHDOG_STATUS_ADDRESS,
    WATCHDOG_TIMEOUT_ADDRESS,
    IoIdentity,
    decode_identity,
)
from devices.transport.base import ModbusUnit


class IoDriver:
    def __init__(self, unit: ModbusUnit, name: str = "io", timeout_s: float = 0.5) -> None:
        self.unit, self.name, self.timeout_s = unit, name, timeout_s
        self._bounded = Bounded(unit, name, timeout_s)

    async def read_inputs(self) -> tuple[bool, ...]:
        bits = await self._bounded(self.unit.read_discrete_inputs(0, INPUT_COUNT))
        return self._image(bits, INPUT_COUNT, "inputs")

    async def read_outputs(self) -> tuple[bool, ...]:
        bits = await self._bounded(self.unit.read_coils(0, OUTPUT_COUNT))
        return self._image(bits, OUTPUT_COUNT, "outputs")

    def _image(self, bits: Sequence[bool], count: int, what: str) -> tuple[bool, ...]:
        if len(bits) < count:
            raise DeviceProtocolError(self.name, f"{what}: {len(bits)} bits, expected {count}")
        return tuple(bool(b) for b in bits[:count])

    async def write_outputs(self, bits: Sequence[bool]) -> None:
        if len(bits) != OUTPUT_COUNT:
            raise ValueError(f"bits: the output image has {OUTPUT_COUNT} coils, got {len(bits)}")
        await self._bounded(self.unit.write_coils(0, list(bits)))

    async def arm_watchdog(self, timeout_ms: int, safe_pattern: int) -> None:
        if not 0 <= timeout_ms <= 0xFFFF or not 0 <= safe_pattern <= 0xFFFF:
            raise ValueError(f"watchdog: timeout_ms {timeout_ms} / pattern {safe_pattern}")
        await self._bounded(self.unit.write_register(WATCHDOG_SAFE_PATTERN_ADDRESS, safe_pattern))
        await self._bounded(self.unit.write_register(WATCHDOG_TIMEOUT_ADDRESS, timeout_ms))

    async def watchdog_tripped(self) -> bool:
        (status,) = await self._bounded(
            self.unit.read_holding_registers(WATCHDOG_STATUS_ADDRESS, 1)
        )
        return status == 1

    async def reset_watchdog(self) -> None:
        await self._bounded(self.unit.write_register(WATCHDOG_STATUS_ADDRESS, 0))

    async def identity(self) -> IoIdentity:
        regs = await self._bounded(self.unit.read_input_registers(IDENTITY_ADDRESS, 2))
        return decode_identity(self.name, regs)
