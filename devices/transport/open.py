"""From an endpoint URL to a transport: the one place that knows which class serves which
scheme. Emulated and real devices are told apart by nothing but their URL."""

from __future__ import annotations

from controller.errors import ConfigError, DeviceBroken
from devices.transport.base import ByteStream, MemoryHub, ModbusUnit
from devices.transport.memory import MemoryModbusLink
from devices.transport.modbus import ModbusLinks
from devices.transport.serial import ReopeningSerialStream, SerialStream
from devices.transport.url import MemoryUrl, ModbusRtuUrl, ModbusTcpUrl, SerialUrl, parse_url


def modbus_unit(
    url: str,
    unit: int,
    *,
    links: ModbusLinks,
    hub: MemoryHub | None = None,
) -> ModbusUnit:
    parsed = parse_url(url)
    if isinstance(parsed, MemoryUrl):
        if hub is None:
            raise ConfigError("url", f"{url!r}: memory:// needs an in-process emulator hub")
        return MemoryModbusLink(hub, parsed.name, links.timeout_s).unit(unit)
    if isinstance(parsed, ModbusTcpUrl | ModbusRtuUrl):
        return links.link(parsed, unit).unit(unit)
    raise ConfigError("url", f"{url!r}: not a Modbus endpoint")


async def open_serial(
    url: str, *, hub: MemoryHub | None = None, reopen: bool = False
) -> ByteStream:
    """The serial line at `url`; with `reopen`, one that opens lazily and reopens after a
    failure (the runtime's choice: a missing port is a stale device, not a crash)."""
    parsed = parse_url(url)
    if isinstance(parsed, MemoryUrl):
        stream = None if hub is None else hub.serial.get(parsed.name)
        if stream is None:
            raise DeviceBroken(url, "no in-memory serial device served at this name")
        return stream
    if isinstance(parsed, SerialUrl):
        if reopen:
            return ReopeningSerialStream(parsed.path, parsed.line)
        return await SerialStream.open(parsed.path, parsed.line)
    raise ConfigError("url", f"{url!r}: not a serial endpoint")
