"""Serial lines through pyserial and pyserial-asyncio-fast, as `ByteStream`s.

Foreign errors are mapped here: a port that cannot be opened (termios refusing a line
setting included) or vanishes is
`DeviceBroken` (with the SerialException/OSError as cause), reading after our own close
is `DeviceClosed`. `discard_input` drops what the reader has buffered, so a late reply
after a timeout is never taken for the answer to the next request.
"""

from __future__ import annotations

import asyncio
import contextlib
import termios

import serial
import serial_asyncio_fast

from controller.errors import DeviceBroken, DeviceClosed
from devices.transport.url import LineSettings

_PARITY = {"N": serial.PARITY_NONE, "E": serial.PARITY_EVEN, "O": serial.PARITY_ODD}


class SerialStream:
    def __init__(
        self, name: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self._name, self._reader, self._writer = name, reader, writer
        self._closed = False

    @classmethod
    async def open(cls, path: str, line: LineSettings) -> SerialStream:
        try:
            reader, writer = await serial_asyncio_fast.open_serial_connection(
                url=path,
                baudrate=line.baud,
                bytesize=line.bytesize,
                parity=_PARITY[line.parity],
                stopbits=line.stopbits,
            )
        except (serial.SerialException, OSError, ValueError, termios.error) as error:
            # termios.error is no OSError: a line setting the port refuses (a pty asked
            # for parity: EINVAL) raises it from pyserial's configuration of the port
            raise DeviceBroken(path, f"cannot open serial port ({line}): {error}") from error
        return cls(path, reader, writer)

    @property
    def name(self) -> str:
        return self._name

    async def write(self, data: bytes) -> None:
        if self._closed:
            raise DeviceClosed(self._name, "serial port closed")
        try:
            self._writer.write(data)
            await self._writer.drain()
        except (serial.SerialException, OSError, ConnectionError) as error:
            raise DeviceBroken(self._name, f"write failed: {error}") from error

    async def read(self, max_bytes: int = 4096) -> bytes:
        if self._closed:
            raise DeviceClosed(self._name, "serial port closed")
        try:
            data = await self._reader.read(max_bytes)
        except (serial.SerialException, OSError, ConnectionError) as error:
            raise DeviceBroken(self._name, f"read failed: {error}") from error
        if not data:
            raise DeviceBroken(self._name, "the port closed (end of stream)")
        return data

    def discard_input(self) -> None:
        # StreamReader has no public flush; its buffer is a bytearray we may clear
        buffered = getattr(self._reader, "_buffer", None)
        if isinstance(buffered, bytearray):
            buffered.clear()

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._writer.close()
        with contextlib.suppress(serial.SerialException, OSError, ConnectionError):
            await self._writer.wait_closed()


class ReopeningSerialStream:
    """A serial line that opens on first use and reopens after it broke (an unplugged
    USB adapter, an emulator restarted): each failure is raised to the caller, who keeps
    polling, so the device's freshness tells the lane what is going on."""

    def __init__(self, path: str, line: LineSettings) -> None:
        self._path, self._line = path, line
        self._stream: SerialStream | None = None
        self._closed = False

    @property
    def name(self) -> str:
        return self._path

    async def _open(self) -> SerialStream:
        if self._closed:
            raise DeviceClosed(self._path, "serial port closed")
        if self._stream is None:
            self._stream = await SerialStream.open(self._path, self._line)
        return self._stream

    async def _broken(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            await stream.close()

    async def write(self, data: bytes) -> None:
        stream = await self._open()
        try:
            await stream.write(data)
        except DeviceBroken:
            await self._broken()
            raise

    async def read(self, max_bytes: int = 4096) -> bytes:
        stream = await self._open()
        try:
            return await stream.read(max_bytes)
        except DeviceBroken:
            await self._broken()
            raise

    def discard_input(self) -> None:
        if self._stream is not None:
            self._stream.discard_input()

    async def close(self) -> None:
        self._closed = True
        await self._broken()
