"""Device endpoint URLs (DESIGN section 8), parsed and validated.

`modbus-tcp://HOST[:PORT]` (502), `modbus-rtu:///dev/PATH?baud=38400&parity=E`,
`serial:///dev/PATH?baud=9600&bytesize=7&parity=E&stopbits=1` (line options default to
8N1; baud to 19200 for RTU and 9600 for serial), and `memory://NAME` for in-memory
emulators. A bad URL raises ConfigError naming the part that is wrong.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

from controller.errors import ConfigError

BAUDS = frozenset({1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200})
LINE_KEYS = frozenset({"baud", "parity", "bytesize", "stopbits"})


@dataclass(frozen=True, slots=True)
class LineSettings:
    baud: int = 9600
    parity: str = "N"
    bytesize: int = 8
    stopbits: int = 1

    def __str__(self) -> str:
        return f"{self.baud} {self.bytesize}{self.parity}{self.stopbits}"


@dataclass(frozen=True, slots=True)
class ModbusTcpUrl:
    host: str
    port: int = 502


@dataclass(frozen=True, slots=True)
class ModbusRtuUrl:
    path: str
    line: LineSettings


@dataclass(frozen=True, slots=True)
class SerialUrl:
    path: str
    line: LineSettings


@dataclass(frozen=True, slots=True)
class MemoryUrl:
    name: str


DeviceUrl = ModbusTcpUrl | ModbusRtuUrl | SerialUrl | MemoryUrl


def parse_url(url: str) -> DeviceUrl:
    parts = urlsplit(url)
    scheme = parts.scheme
    if scheme == "modbus-tcp":
        return _tcp(url)
    if scheme == "memory":
        name = parts.netloc + parts.path
        if not name or parts.query:
            raise ConfigError("url", f"{url!r}: memory:// needs a name and no options")
        return MemoryUrl(name)
    if scheme in ("modbus-rtu", "serial"):
        if parts.netloc or not parts.path.startswith("/"):
            raise ConfigError("url", f"{url!r}: needs an absolute device path (three slashes)")
        line = _line(url, parts.query, 19200 if scheme == "modbus-rtu" else 9600)
        return (
            ModbusRtuUrl(parts.path, line)
            if scheme == "modbus-rtu"
            else SerialUrl(parts.path, line)
        )
    raise ConfigError("url", f"{url!r}: scheme must be modbus-tcp, modbus-rtu, serial or memory")


def _tcp(url: str) -> ModbusTcpUrl:
    split = urlsplit(url)
    host = split.hostname
    if not host or split.path not in ("", "/") or split.query:
        raise ConfigError("url", f"{url!r}: modbus-tcp://HOST[:PORT] expected")
    try:
        port = split.port or 502
    except ValueError:
        raise ConfigError("url", f"{url!r}: port is not a number in 1..65535") from None
    return ModbusTcpUrl(host, port)


def _line(url: str, query: str, default_baud: int) -> LineSettings:
    options = dict(parse_qsl(query, keep_blank_values=True, strict_parsing=False))
    unknown = sorted(set(options) - LINE_KEYS)
    if unknown:
        raise ConfigError(
            "url", f"{url!r}: unknown option {unknown[0]!r} (baud, parity, bytesize, stopbits)"
        )
    try:
        line = LineSettings(
            baud=int(options.get("baud", default_baud)),
            parity=options.get("parity", "N").upper(),
            bytesize=int(options.get("bytesize", 8)),
            stopbits=int(options.get("stopbits", 1)),
        )
    except ValueError:
        raise ConfigError("url", f"{url!r}: baud, bytesize and stopbits are numbers") from None
    if line.baud not in BAUDS:
        raise ConfigError("url", f"{url!r}: baud {line.baud} is not one of {sorted(BAUDS)}")
    if (
        line.parity not in ("N", "E", "O")
        or line.bytesize not in (7, 8)
        or line.stopbits not in (1, 2)
    ):
        raise ConfigError("url", f"{url!r}: line {line} (parity N/E/O, bytesize 7/8, stopbits 1/2)")
    return line
