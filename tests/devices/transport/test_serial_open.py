"""Opening a serial line with settings the port refuses is a `DeviceBroken` naming the
port and the settings, never a foreign exception (termios.error is no OSError)."""

from __future__ import annotations

import os
import pty
from collections.abc import Iterator
from pathlib import Path

import pytest

from controller.errors import DeviceBroken
from devices.transport.serial import ReopeningSerialStream, SerialStream
from devices.transport.url import LineSettings

SEVEN_E_ONE = LineSettings(9600, parity="E", bytesize=7)


@pytest.fixture
def pty_path() -> Iterator[Path]:
    master, slave = pty.openpty()
    try:
        yield Path(os.ttyname(slave))
    finally:
        os.close(slave)
        os.close(master)


async def test_a_line_setting_a_pty_refuses_is_a_broken_device(pty_path: Path) -> None:
    with pytest.raises(DeviceBroken) as raised:
        await SerialStream.open(str(pty_path), SEVEN_E_ONE)
    assert str(pty_path) in str(raised.value)
    assert "9600 7E1" in str(raised.value)


async def test_the_runtime_s_reopening_line_reports_it_as_broken_too(pty_path: Path) -> None:
    stream = ReopeningSerialStream(str(pty_path), SEVEN_E_ONE)
    with pytest.raises(DeviceBroken):
        await stream.read()  # the lane sees a stale device, not a crashed poll task
    await stream.close()
