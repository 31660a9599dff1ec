"""`gatectl diag serial probe PORT`: which line settings give valid frames.

Each common setting is tried in turn: open the port with it, listen (and, for a
request/response protocol, ask: SMA `W`, an RFID reader-info broadcast, a Modbus RTU read
of holding 0), and count the frames that decode and those that do not. Wrong baud or
framing shows as garbage or silence; the right one as good frames and no errors. A pty
ignores the baud rate and refuses parity (EINVAL) on these kernels, so on an emulated
port every 8N1 setting looks right and the others cannot be opened: the probe can only
show there that it finds valid frames and reports the setting.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass

from controller.cli.diag_serial import Decoders
from controller.errors import DeviceError
from devices.modbus.rtu import (
    decode_adu,
    decode_response_pdu,
    encode_adu,
    encode_request_pdu,
    response_frame_length,
)
from devices.rfid.codec import BROADCAST, RfidCommand, encode_command
from devices.scale.codec import SmaCommand, encode_sma_command
from devices.transport.base import ModbusFunction, ModbusRequest
from devices.transport.serial import SerialStream
from devices.transport.url import LineSettings

SETTINGS = tuple(
    LineSettings(baud, parity=parity, bytesize=bytesize, stopbits=1)
    for baud, bytesize, parity in (
        (9600, 8, "N"), (9600, 7, "E"), (9600, 8, "E"), (19200, 8, "N"), (19200, 8, "E"),
        (38400, 8, "N"), (38400, 8, "E"), (57600, 8, "N"), (115200, 8, "N"), (4800, 7, "E"),
        (2400, 7, "E"),
    )
)  # fmt: skip
PROTOCOLS = ("auto", "toledo", "sma", "rfid", "modbus")
HOLDING_0 = ModbusRequest(ModbusFunction.READ_HOLDING_REGISTERS, 0, 1)


@dataclass(slots=True)
class Trial:
    line: LineSettings
    good: int = 0
    errors: int = 0
    note: str = ""

    @property
    def valid(self) -> bool:
        return self.good > 0 and self.errors == 0

    @property
    def verdict(self) -> str:
        if self.note:
            return "cannot open"
        return "VALID" if self.valid else ("garbage" if self.errors else "silent")

    def fields(self) -> dict[str, object]:
        return {"line": str(self.line), "verdict": self.verdict.lower(), "good": self.good,
                "errors": self.errors, "note": self.note}  # fmt: skip

    def __str__(self) -> str:
        if self.note:
            return f"{self.line!s:<12} {self.note}"
        return f"{self.line!s:<12} {self.verdict:<8} good frames {self.good}, errors {self.errors}"


def queries(protocol: str, unit: int) -> list[bytes]:
    asks = {
        "sma": [encode_sma_command(SmaCommand.WEIGHT)],
        "rfid": [encode_command(BROADCAST, RfidCommand.READER_INFO)],
        "modbus": [encode_adu(unit, encode_request_pdu(HOLDING_0))],
    }
    if protocol == "auto":
        return [asks["sma"][0], asks["rfid"][0], asks["modbus"][0]]
    return asks.get(protocol, [])


def modbus_frames(buffer: bytearray, unit: int) -> tuple[int, int]:
    """(good, bad) RTU replies framed by length in `buffer`, consumed; a byte that starts
    no valid reply is dropped as bad (the next one may start a frame)."""
    good = bad = 0
    while len(buffer) >= 2:
        length = response_frame_length(buffer)
        if length is not None and len(buffer) < length:
            break
        if length is not None and _valid_reply(bytes(buffer[:length]), unit):
            del buffer[:length]
            good += 1
        else:
            del buffer[:1]
            bad += 1
    return good, bad


def _valid_reply(frame: bytes, unit: int) -> bool:
    try:
        replied, pdu = decode_adu("line", frame)
        if replied != unit:
            return False
        if pdu[0] & 0x80 == 0:
            decode_response_pdu("line", HOLDING_0, pdu)
    except DeviceError:
        return False
    return True


async def trial(path: str, line: LineSettings, protocol: str, unit: int, listen_s: float) -> Trial:
    result = Trial(line)
    try:
        stream = await SerialStream.open(path, line)
    except DeviceError as error:
        result.note = f"cannot open ({_reason(error)})"
        return result
    try:
        await _listen(stream, result, protocol, unit, listen_s)
    finally:
        await stream.close()
    return result


def _reason(error: DeviceError) -> str:
    """The OS's words for a refused open: termios.error carries (errno, text) as args."""
    cause = error.__cause__
    args: tuple[object, ...] = tuple(getattr(cause, "args", ()))
    if len(args) == 2 and isinstance(args[1], str):
        return args[1]
    return str(getattr(cause, "strerror", None) or cause or error)


async def _listen(
    stream: SerialStream, result: Trial, protocol: str, unit: int, listen_s: float
) -> None:
    """Listen, ask, listen. In `auto` only frames that decode count: every codec calls
    the other protocols' frames garbage, so errors there tell nothing."""
    decoders, rtu = Decoders(protocol if protocol != "modbus" else "auto"), bytearray()
    loop = asyncio.get_running_loop()
    for ask in queries(protocol, unit) or [b""]:
        if ask:
            await stream.write(ask)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(listen_s):
                while True:
                    chunk = await stream.read(4096)
                    if protocol != "modbus":
                        frames = decoders.feed(chunk, loop.time())
                        result.good += sum(frame.good for frame in frames)
                        result.errors += sum(not frame.good for frame in frames)
                    if protocol in ("modbus", "auto"):
                        rtu += chunk
                        good, bad = modbus_frames(rtu, unit)
                        result.good += good
                        result.errors += bad if protocol == "modbus" else 0


async def probe(path: str, protocol: str, unit: int, listen_s: float, as_json: bool) -> int:
    trials: list[Trial] = []
    for line in SETTINGS:
        trials.append(result := await trial(path, line, protocol, unit, listen_s))
        if not as_json:
            print(result, flush=True)
    found = [str(t.line) for t in trials if t.valid]
    if as_json:
        settings = [t.fields() for t in trials]
        print(json.dumps({"port": path, "protocol": protocol, "settings": settings,
                          "valid": found}))  # fmt: skip
    elif found:
        print(f"valid frames at: {', '.join(found)} (first: {found[0]})")
    else:
        print("no setting gave valid frames (wiring, power, protocol?)")
    return 0 if found else 4
