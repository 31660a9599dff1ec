"""`gatectl diag scale|rfid|serial sniff`: a serial device straight from the gateway,
decoded with the project's own codecs, each line stamped with the wall-clock time.

A PORT is a device path (`/dev/ttyS1`, 8N1 at the protocol's usual baud) or a
`serial://` URL with line options (`serial:///dev/ttyS1?baud=9600&bytesize=7&parity=E`).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass

from controller.errors import ConfigError, DeviceProtocolError
from devices.rfid.codec import RfidStreamParser
from devices.rfid.driver import RfidDriver
from devices.scale.codec import SmaStreamParser, ToledoStreamParser, WeightReading
from devices.scale.driver import ScaleDriver
from devices.transport.base import ByteStream
from devices.transport.serial import SerialStream
from devices.transport.url import SerialUrl, parse_url

USUAL_BAUD = {"toledo": 9600, "sma": 9600, "rfid": 57600, "raw": 9600, "auto": 9600}
Clock = Callable[[], float]


def serial_url(port: str, protocol: str) -> SerialUrl:
    url = port if "://" in port else f"serial://{port}?baud={USUAL_BAUD.get(protocol, 9600)}"
    parsed = parse_url(url)
    if not isinstance(parsed, SerialUrl):
        raise ConfigError("PORT", f"{port!r} is not a device path or serial:// URL")
    return parsed


def stamp(clock: Clock) -> str:
    now = clock()
    return time.strftime("%H:%M:%S", time.localtime(now)) + f".{int(now % 1 * 1000):03d}"


def reading_fields(reading: WeightReading) -> dict[str, object]:
    return {
        "weight_kg": round(reading.weight_kg, 3),
        "tare_kg": round(reading.tare_kg, 3),
        "net": reading.net,
        "negative": reading.negative,
        "motion": reading.motion,
        "out_of_range": reading.out_of_range,
        "zeroed": reading.zeroed,
        "unit_kg": reading.unit_kg,
        "raw": reading.raw.hex(" "),
    }


def reading_line(reading: WeightReading) -> str:
    flags = [
        "net" if reading.net else "gross",
        "MOTION" if reading.motion else "stable",
        "OUT-OF-RANGE" if reading.out_of_range else "in range",
        "zeroed" if reading.zeroed else "NOT-ZEROED",
        "kg" if reading.unit_kg else "lb",
    ]
    return f"{reading.weight_kg:>10,.1f} kg  tare {reading.tare_kg:,.0f}  {' '.join(flags)}"


async def watch_scale(
    stream: ByteStream, protocol: str, count: int, as_json: bool, clock: Clock = time.time
) -> int:
    """Print decoded frames until `count` (0: until Ctrl-C); then, in text, the counts
    (also after an error or Ctrl-C, as mbpoll gives its statistics)."""
    driver = ScaleDriver(stream, "scale", "sma" if protocol == "sma" else "toledo")
    shown = 0
    try:
        while count == 0 or shown < count:
            reading = await driver.read_reading(timeout_s=2.0)
            shown += 1
            if as_json:
                print(json.dumps({"ts": clock(), **reading_fields(reading)}), flush=True)
            else:
                print(f"{stamp(clock)}  {reading_line(reading)}", flush=True)
    finally:
        if not as_json:
            print(f"frames decoded {shown} / protocol errors {driver.protocol_errors}")
    return 0


def reader_info_fields(data: bytes) -> dict[str, object]:
    """The 0x21 answer as the UHFReader18 manual lays it out (version, type, protocols,
    then the band, power and scan-time bytes, kept raw: clones differ)."""
    if len(data) < 4:
        return {"raw": data.hex(" ")}
    protocols = [name for bit, name in ((0x02, "6C"), (0x01, "6B")) if data[3] & bit]
    return {
        "version": f"{data[0]}.{data[1]}",
        "type": f"0x{data[2]:02X}",
        "protocols": "+".join(protocols) or "none",
        "params": data[4:].hex(" "),
    }


async def query_rfid(
    stream: ByteStream, address: int, count: int, interval_s: float, as_json: bool
) -> int:
    driver = RfidDriver(stream, "rfid", address)
    info = reader_info_fields(await driver.reader_info())
    if not as_json:
        print("reader  " + "  ".join(f"{k} {v}" for k, v in info.items()), flush=True)
    rounds: list[list[str]] = []
    for index in range(count):
        epcs = [epc.hex().upper() for epc in await driver.inventory()]
        rounds.append(epcs)
        if not as_json:
            print(
                f"inventory {index + 1}: {len(epcs)} tag(s) {' '.join(epcs)}".rstrip(), flush=True
            )
        if index + 1 < count:
            await asyncio.sleep(interval_s)
    if as_json:
        print(json.dumps({"address": address, "reader": info, "inventories": rounds}))
    return 0


@dataclass(frozen=True, slots=True)
class Decoded:
    protocol: str
    text: str
    good: bool  # a frame that decoded, or the chosen codec's error


class Decoders:
    """Every codec that can run on a line we only listen to; `chosen` narrows them."""

    def __init__(self, chosen: str) -> None:
        self.chosen = chosen
        self.toledo = ToledoStreamParser("line")
        self.sma = SmaStreamParser("line")
        self.rfid = RfidStreamParser("line")

    def feed(self, chunk: bytes, at: float) -> list[Decoded]:
        """Each frame completed by `chunk`; errors only from a chosen codec (in `auto`
        every codec calls the other protocols' frames garbage)."""
        found: list[Decoded] = []
        wanted = ("toledo", "sma", "rfid") if self.chosen == "auto" else (self.chosen,)
        for name in wanted:
            for item in self._items(name, chunk, at):
                if not isinstance(item, DeviceProtocolError):
                    found.append(Decoded(name, item, good=True))
                elif self.chosen != "auto":
                    found.append(Decoded(name, f"error {item}", good=False))
        return found

    def _items(self, name: str, chunk: bytes, at: float) -> list[str | DeviceProtocolError]:
        if name == "rfid":
            return [
                i if isinstance(i, DeviceProtocolError) else
                f"adr 0x{i.address:02X} cmd 0x{i.recmd:02X} status 0x{i.status:02X} "
                f"data {i.data.hex(' ') or '-'}"
                for i in self.rfid.feed(chunk, at)
            ]  # fmt: skip
        if name in ("toledo", "sma"):
            parser = self.toledo if name == "toledo" else self.sma
            return [
                i if isinstance(i, DeviceProtocolError) else reading_line(i)
                for i in parser.feed(chunk)
            ]
        return []


async def sniff(
    stream: ByteStream, protocol: str, count: int, as_json: bool, clock: Clock = time.time
) -> int:
    """Print what arrives: each chunk in hex, then each frame it completes, decoded."""
    decoders, decoded = Decoders(protocol), 0
    loop = asyncio.get_running_loop()
    while count == 0 or decoded < count:
        chunk = await stream.read(4096)
        frames = decoders.feed(chunk, loop.time())
        if as_json:
            shown = [{"protocol": f.protocol, "text": f.text, "good": f.good} for f in frames]
            print(json.dumps({"ts": clock(), "hex": chunk.hex(" "), "frames": shown}), flush=True)
        else:
            print(f"{stamp(clock)}  {len(chunk):>4} B  {chunk.hex(' ')}", flush=True)
            for frame in frames:
                print(f"{'':>12}  {frame.protocol:<6} {frame.text}", flush=True)
        decoded += len(frames) if protocol != "raw" else 1
    return 0


async def open_port(url: SerialUrl) -> SerialStream:
    return await SerialStream.open(url.path, url.line)
