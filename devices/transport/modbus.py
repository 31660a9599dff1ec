"""Modbus TCP and RTU links through pymodbus 3.16.1: the only client-side pymodbus module.

Theory of operation: one `ModbusLink` per TCP endpoint or RS-485 bus, one pymodbus client
inside it, and a lock so one request is on the wire at a time (units on one bus share
the link). Both of pymodbus's error channels are folded into ours: an exception response
(`isError()`) is `DeviceRefused` with its code; ModbusIOException/timeouts are
`DeviceTimeout`; connection failures `DeviceBroken`; use after close `DeviceClosed`; a
response of the wrong shape `DeviceProtocolError`. pymodbus may hand a late reply to the
next request after a timeout (its issues #538, #1509), so after a timeout the link drops
the connection and reconnects before the next request: late bytes die with the old one.
A cancellation that races a reply is raised again (Python 3.11's wait_for drops it).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from pymodbus.client import AsyncModbusSerialClient, AsyncModbusTcpClient
from pymodbus.exceptions import ConnectionException, ModbusException, ModbusIOException

from controller.errors import (
    ConfigError,
    DeviceBroken,
    DeviceClosed,
    DeviceProtocolError,
    DeviceRefused,
    DeviceTimeout,
    keeping_cancellation,
)
from devices.transport.url import ModbusRtuUrl, ModbusTcpUrl

Client = AsyncModbusTcpClient | AsyncModbusSerialClient


class ModbusLink:
    def __init__(self, name: str, make_client: Callable[[], Client]) -> None:
        self.name = name
        self._make = make_client
        self._client: Client | None = None
        self._lock = asyncio.Lock()
        self._closed = False
        self._stale = False  # a timeout happened: reconnect before the next request

    @classmethod
    def tcp(cls, url: ModbusTcpUrl, timeout_s: float = 0.5) -> ModbusLink:
        def make() -> Client:
            return AsyncModbusTcpClient(
                url.host, port=url.port, timeout=timeout_s, retries=0, reconnect_delay=0
            )

        return cls(f"modbus-tcp://{url.host}:{url.port}", make)

    @classmethod
    def rtu(cls, url: ModbusRtuUrl, timeout_s: float = 0.5) -> ModbusLink:
        line = url.line

        def make() -> Client:
            return AsyncModbusSerialClient(
                url.path,
                baudrate=line.baud,
                bytesize=line.bytesize,
                parity=line.parity,
                stopbits=line.stopbits,
                timeout=timeout_s,
                retries=0,
                reconnect_delay=0,
            )

        return cls(f"modbus-rtu://{url.path}", make)

    def unit(self, device_id: int) -> PymodbusUnit:
        if not 0 <= device_id <= 247:
            raise ConfigError("unit", f"{device_id} is not a Modbus unit id (0..247)")
        return PymodbusUnit(self, device_id)

    async def connect(self) -> None:
        async with self._lock:
            await self._connected()

    async def _connected(self) -> Client:
        if self._closed:
            raise DeviceClosed(self.name, "link closed")
        if self._client is not None and (self._stale or not self._client.connected):
            self._client.close()
            self._client = None
        if self._client is None:
            client = self._make()
            try:
                ok = await client.connect()
            except (ModbusException, OSError) as error:
                client.close()
                raise DeviceBroken(self.name, f"cannot connect: {error}") from error
            if not ok:
                client.close()
                raise DeviceBroken(self.name, "cannot connect (refused or port missing)")
            self._client, self._stale = client, False
        return self._client

    async def call(self, what: str, request: Callable[[Client], Awaitable[Any]]) -> Any:
        """One request on the wire; its response, with errors folded into ours."""
        async with self._lock:
            client = await self._connected()
            try:
                response = await keeping_cancellation(request(client))
            except ModbusIOException as error:
                self._stale = True
                raise DeviceTimeout(self.name, f"{what}: no answer") from error
            except ConnectionException as error:
                self._stale = True
                raise DeviceBroken(self.name, f"{what}: connection lost") from error
            except ModbusException as error:
                self._stale = True
                raise DeviceProtocolError(self.name, f"{what}: {error}") from error
        if response.isError():
            code = int(getattr(response, "exception_code", 0))
            raise DeviceRefused(self.name, f"{what}: exception response", code)
        return response

    async def close(self) -> None:
        self._closed = True
        if self._client is not None:
            self._client.close()
            self._client = None


class PymodbusUnit:
    bounded = True  # every request is bounded by the client's own timeout

    def __init__(self, link: ModbusLink, device_id: int) -> None:
        self._link, self._id = link, device_id

    @property
    def name(self) -> str:
        return f"{self._link.name}#{self._id}"

    async def _bits(
        self, what: str, call: Callable[[Client], Awaitable[Any]], count: int
    ) -> list[bool]:
        response = await self._link.call(what, call)
        bits = list(getattr(response, "bits", []))
        if len(bits) < count:
            raise DeviceProtocolError(self.name, f"{what}: {len(bits)} bits for {count}")
        return [bool(b) for b in bits[:count]]

    async def _registers(
        self, what: str, call: Callable[[Client], Awaitable[Any]], count: int
    ) -> list[int]:
        response = await self._link.call(what, call)
        regs = list(getattr(response, "registers", []))
        if len(regs) != count:
            raise DeviceProtocolError(self.name, f"{what}: {len(regs)} registers for {count}")
        return [int(r) for r in regs]

    async def read_coils(self, address: int, count: int) -> list[bool]:
        return await self._bits(
            "FC1", lambda c: c.read_coils(address, count=count, device_id=self._id), count
        )

    async def read_discrete_inputs(self, address: int, count: int) -> list[bool]:
        return await self._bits(
            "FC2", lambda c: c.read_discrete_inputs(address, count=count, device_id=self._id), count
        )

    async def read_holding_registers(self, address: int, count: int) -> list[int]:
        return await self._registers(
            "FC3",
            lambda c: c.read_holding_registers(address, count=count, device_id=self._id),
            count,
        )

    async def read_input_registers(self, address: int, count: int) -> list[int]:
        return await self._registers(
            "FC4", lambda c: c.read_input_registers(address, count=count, device_id=self._id), count
        )

    async def write_coil(self, address: int, value: bool) -> None:
        await self._link.call("FC5", lambda c: c.write_coil(address, value, device_id=self._id))

    async def write_coils(self, address: int, values: Sequence[bool]) -> None:
        bits = [bool(v) for v in values]
        await self._link.call("FC15", lambda c: c.write_coils(address, bits, device_id=self._id))

    async def write_register(self, address: int, value: int) -> None:
        await self._link.call("FC6", lambda c: c.write_register(address, value, device_id=self._id))

    async def write_registers(self, address: int, values: Sequence[int]) -> None:
        regs = list(values)
        await self._link.call(
            "FC16", lambda c: c.write_registers(address, regs, device_id=self._id)
        )


class ModbusLinks:
    """One link per TCP endpoint or per RS-485 bus (the port's real path), shared by the
    units on it. Conflicting line settings or a unit used twice on one bus are refused."""

    def __init__(self, timeout_s: float = 0.5) -> None:
        self.timeout_s = timeout_s
        self._links: dict[str, tuple[ModbusLink, object]] = {}
        self._units: set[tuple[str, int]] = set()

    def link(self, url: ModbusTcpUrl | ModbusRtuUrl, unit: int) -> ModbusLink:
        if isinstance(url, ModbusTcpUrl):
            key, settings = f"tcp:{url.host}:{url.port}", None
        else:
            key, settings = f"rtu:{os.path.realpath(url.path)}", url.line
        # errors name the endpoint as configured: a pty's resolved target means nothing
        shown = key if isinstance(url, ModbusTcpUrl) else f"rtu:{url.path}"
        if (key, unit) in self._units:
            raise ConfigError("unit", f"unit {unit} is used twice on {shown}")
        known = self._links.get(key)
        if known is not None and known[1] != settings:
            raise ConfigError("url", f"{shown}: line settings {settings} conflict with {known[1]}")
        if known is None:
            made = (
                ModbusLink.tcp(url, self.timeout_s)
                if isinstance(url, ModbusTcpUrl)
                else ModbusLink.rtu(url, self.timeout_s)
            )
            known = self._links[key] = (made, settings)
        self._units.add((key, unit))
        return known[0]

    async def close(self) -> None:
        for link, _ in self._links.values():
            await link.close()
