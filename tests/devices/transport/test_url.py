"""Endpoint URLs: the forms of DESIGN section 8, and errors that name the bad part."""

from __future__ import annotations

import pytest

from controller.errors import ConfigError
from devices.transport.url import (
    LineSettings,
    MemoryUrl,
    ModbusRtuUrl,
    ModbusTcpUrl,
    SerialUrl,
    parse_url,
)


def test_the_design_examples() -> None:
    assert parse_url("modbus-tcp://10.0.1.21:502") == ModbusTcpUrl("10.0.1.21", 502)
    assert parse_url("modbus-tcp://127.0.0.1") == ModbusTcpUrl("127.0.0.1", 502)
    assert parse_url("modbus-rtu:///dev/ttyUSB0?baud=38400&parity=E") == ModbusRtuUrl(
        "/dev/ttyUSB0", LineSettings(38400, "E", 8, 1)
    )
    assert parse_url("serial:///dev/ttyS1?baud=9600&bytesize=7&parity=E") == SerialUrl(
        "/dev/ttyS1", LineSettings(9600, "E", 7, 1)
    )
    assert parse_url("serial:///tmp/gatebridge/L01-rfid?baud=57600") == SerialUrl(
        "/tmp/gatebridge/L01-rfid", LineSettings(57600)
    )
    assert parse_url("memory://L01-io") == MemoryUrl("L01-io")


def test_defaults_are_8n1() -> None:
    url = parse_url("modbus-rtu:///dev/ttyUSB0")
    assert isinstance(url, ModbusRtuUrl)
    assert str(url.line) == "19200 8N1"


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("http://x", "scheme"),
        ("modbus-tcp://", "HOST"),
        ("modbus-tcp://host:99999", "port"),
        ("serial://dev/ttyS1", "absolute device path"),
        ("serial:///dev/ttyS1?baud=1234", "baud 1234"),
        ("serial:///dev/ttyS1?parity=X", "parity"),
        ("serial:///dev/ttyS1?speed=9600", "unknown option 'speed'"),
        ("serial:///dev/ttyS1?baud=fast", "numbers"),
        ("memory://", "name"),
    ],
)
def test_bad_urls_say_what_is_wrong(url: str, says: str) -> None:
    with pytest.raises(ConfigError, match=says) as caught:
        parse_url(url)
    assert caught.value.path == "url"
    assert "\n" not in str(caught.value)
