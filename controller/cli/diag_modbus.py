"""`gatectl diag modbus read|write|scan`: one Modbus device straight from the gateway.

Through the project's own link (devices/transport/modbus.py) so diag sees a device as
the controller does. Like mbpoll, every run ends with the frame counters: a request sent
is a frame sent; a normal or exception reply is a frame received; a timeout, an
exception reply or a malformed reply is an error. Exit codes: 0 ok, 3 the endpoint
cannot be reached (connection refused, port missing), 4 the device failed (timeout,
exception response, bad reply).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from typing import Literal, TypeVar

from controller.errors import DeviceBroken, DeviceError, DeviceRefused
from devices.transport.modbus import ModbusLink, PymodbusUnit
from devices.transport.url import ModbusRtuUrl, ModbusTcpUrl, parse_url

Table = Literal["coils", "discrete", "holding", "input"]
MAX_COUNT = {"coils": 2000, "discrete": 2000, "holding": 125, "input": 125}
MAX_WRITE = {"coils": 1968, "holding": 123}
OK, UNREACHABLE, DEVICE_ERROR = 0, 3, 4
T = TypeVar("T")


class UsageError(ValueError):
    """A bad argument: the message names it (exit code 2)."""


@dataclass(slots=True)
class Frames:
    sent: int = 0
    received: int = 0
    errors: int = 0

    def __str__(self) -> str:
        return f"frames sent {self.sent} / received {self.received} / errors {self.errors}"

    async def count(self, call: Awaitable[T]) -> T:
        """One request: counted as it went, its DeviceError raised on."""
        self.sent += 1
        try:
            result = await call
        except DeviceRefused:
            self.received += 1
            self.errors += 1
            raise
        except DeviceBroken:
            self.sent -= 1  # it never reached the line
            raise
        except DeviceError:
            self.errors += 1
            raise
        self.received += 1
        return result


def modbus_url(url: str) -> ModbusTcpUrl | ModbusRtuUrl:
    """`tcp://HOST:PORT` and `rtu:///dev/X?baud=..` as mbpoll users write them, or the
    config's `modbus-tcp://` / `modbus-rtu://`."""
    for short, long in (("tcp://", "modbus-tcp://"), ("rtu://", "modbus-rtu://")):
        if url.startswith(short):
            url = long + url.removeprefix(short)
    parsed = parse_url(url)
    if not isinstance(parsed, ModbusTcpUrl | ModbusRtuUrl):
        raise UsageError(f"URL: {url!r} is not tcp://HOST:PORT or rtu:///dev/PORT?baud=..")
    return parsed


def open_link(url: ModbusTcpUrl | ModbusRtuUrl, timeout_s: float) -> ModbusLink:
    if isinstance(url, ModbusTcpUrl):
        return ModbusLink.tcp(url, timeout_s)
    return ModbusLink.rtu(url, timeout_s)


def check_range(table: str, address: int, count: int, limits: dict[str, int]) -> None:
    if table not in limits:
        raise UsageError(f"--table: {table!r} is not one of {', '.join(limits)}")
    if not 1 <= count <= limits[table]:
        raise UsageError(f"--count: {count} is not in 1..{limits[table]} for {table}")
    if not address >= 0 or address + count > 0x10000:
        raise UsageError(f"--address: {address}..{address + count - 1} is outside 0..65535")


def parse_values(table: str, texts: Sequence[str]) -> list[int]:
    if not texts:
        raise UsageError("VALUES: give at least one value to write")
    check_range(table, 0, len(texts), MAX_WRITE)
    top = 1 if table == "coils" else 0xFFFF
    values = []
    for text in texts:
        try:
            value = int(text, 0)
        except ValueError:
            raise UsageError(f"VALUES: {text!r} is not a number") from None
        if not 0 <= value <= top:
            raise UsageError(f"VALUES: {text!r} is outside 0..{top} for {table}")
        values.append(value)
    return values


async def write(unit: PymodbusUnit, table: str, address: int, values: Sequence[int]) -> None:
    """FC5/FC6 for one value, FC15/FC16 for several, as mbpoll does."""
    if table == "coils":
        if len(values) == 1:
            await unit.write_coil(address, bool(values[0]))
        else:
            await unit.write_coils(address, [bool(v) for v in values])
    elif len(values) == 1:
        await unit.write_register(address, values[0])
    else:
        await unit.write_registers(address, values)


def value_rows(table: str, address: int, values: Sequence[int]) -> list[str]:
    bits = table in ("coils", "discrete")
    rows = [f"{'address':>7}  {'value':>5}  {'hex':>6}"]
    for offset, value in enumerate(values):
        shown = "-" if bits else f"0x{value:04X}"
        rows.append(f"{address + offset:>7}  {value:>5}  {shown:>6}")
    return rows


def json_report(name: str, unit: int, frames: Frames, **fields: object) -> str:
    counters = {"sent": frames.sent, "received": frames.received, "errors": frames.errors}
    return json.dumps({"endpoint": name, "unit": unit, **fields, "frames": counters})


def exit_code(error: DeviceError) -> int:
    return UNREACHABLE if isinstance(error, DeviceBroken) else DEVICE_ERROR


def parse_units(text: str) -> list[int]:
    """`1-247`, `1,2,5-9`: unit ids 1..247, in order, each once."""
    units: set[int] = set()
    for part in text.split(","):
        low, _, high = part.strip().partition("-")
        try:
            first, last = int(low), int(high or low)
        except ValueError:
            raise UsageError(f"--units: {part!r} is not N or N-M") from None
        if not 1 <= first <= last <= 247:
            raise UsageError(f"--units: {part!r} is outside 1..247 (or reversed)")
        units.update(range(first, last + 1))
    return sorted(units)


async def probe_unit(link: ModbusLink, unit: int, frames: Frames) -> str | None:
    """How `unit` answered a read of holding register 0, or None when it is silent. An
    exception reply counts: a device that refuses the address is still on the bus."""
    try:
        await frames.count(link.unit(unit).read_holding_registers(0, 1))
    except DeviceRefused as refused:
        return f"answers (exception {refused.code} to FC3 at 0)"
    except DeviceBroken:
        raise
    except DeviceError:
        return None
    return "answers (FC3 at 0 read)"
