"""The barrier driver: a thin async adapter over one Modbus RTU unit (DESIGN 5.2).

A status read is one FC3 of the seven registers from 100; commands are momentary coils
(write 1, the controller clears them); auto-close is holding 106.
"""

from __future__ import annotations

from devices.barrier.codec import (
    AUTO_CLOSE_ADDRESS,
    STATUS_ADDRESS,
    STATUS_COUNT,
    BarrierCoil,
    BarrierStatus,
    decode_status,
)
from devices.bounded import Bounded
from devices.transport.base import ModbusUnit


class BarrierDriver:
    def __init__(self, unit: ModbusUnit, name: str = "barrier", timeout_s: float = 0.5) -> None:
        self.unit, self.name, self.timeout_s = unit, name, timeout_s
        self._bounded = Bounded(unit, name, timeout_s)

    async def read_status(self) -> BarrierStatus:
        regs = await self._bounded(self.unit.read_holding_registers(STATUS_ADDRESS, STATUS_COUNT))
        return decode_status(self.name, regs)

    async def _pulse(self, coil: BarrierCoil) -> None:
        await self._bounded(self.unit.write_coil(int(coil), value=True))

    async def open(self) -> None:
        await self._pulse(BarrierCoil.OPEN)

    async def close(self) -> None:
        await self._pulse(BarrierCoil.CLOSE)

    async def stop(self) -> None:
        await self._pulse(BarrierCoil.STOP)

    async def reset(self) -> None:
        await self._pulse(BarrierCoil.RESET)

    async def set_auto_close(self, on: bool) -> None:
        await self._bounded(self.unit.write_register(AUTO_CLOSE_ADDRESS, int(on)))
