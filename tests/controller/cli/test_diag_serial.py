"""`gatectl diag scale|rfid|serial sniff|probe` against emulated devices on ptys: the
lane of `gatectl emulate` through the CLI, and devices served in this process where a
test needs to place a tag or speak SMA."""

from __future__ import annotations

import json
import os
import pty
import re
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from controller.cli.diag_serial import query_rfid, watch_scale
from devices.scale.codec import decode_toledo
from devices.transport.serial import SerialStream
from devices.transport.url import LineSettings
from emulators.base import EmulatedClock
from emulators.faults import FaultBook
from emulators.rfid.interface import RfidInterface
from emulators.rfid.model import RfidModel
from emulators.scale.interface import ScaleInterface
from emulators.scale.model import ScaleModel
from emulators.serial_port import SerialDevice, SerialPtyServer
from tests.controller.cli.diag_lane import Lane, gatectl

EPC = bytes.fromhex("2000708C2B380B2D00000000")
STAMPED = re.compile(r"^\d\d:\d\d:\d\d\.\d{3}  ")


def test_scale_prints_decoded_frames_with_their_status_bits(emulated_lane: Lane) -> None:
    ran = gatectl("diag", "scale", str(emulated_lane.tmp / "scale"), "--count", "3")
    assert ran.code == 0, ran.stderr
    frames = ran.stdout.splitlines()
    assert len(frames) == 4
    for line in frames[:3]:
        assert STAMPED.match(line), line
        assert " kg  tare 0  gross " in line
        assert re.search(r"(stable|MOTION) (in range|OUT-OF-RANGE) (zeroed|NOT-ZEROED) kg$", line)
    assert frames[3] == "frames decoded 3 / protocol errors 0"


def test_scale_json_lines_carry_the_raw_frame_they_decode(emulated_lane: Lane) -> None:
    ran = gatectl("diag", "scale", str(emulated_lane.tmp / "scale"), "-n", "2", "--json")
    assert ran.code == 0, ran.stderr
    assert len(ran.stdout.splitlines()) == 2  # JSON lines only
    for line in ran.stdout.splitlines():
        frame = json.loads(line)
        raw = bytes.fromhex(frame["raw"])
        assert len(raw) == 18
        assert frame["weight_kg"] == decode_toledo("t", raw).weight_kg
        assert {"motion", "zeroed", "net", "out_of_range", "ts"} <= set(frame)


def test_rfid_shows_reader_info_and_inventories(emulated_lane: Lane) -> None:
    ran = gatectl("diag", "rfid", str(emulated_lane.tmp / "rfid"), "-n", "2", "--interval", "0")
    assert ran.code == 0, ran.stderr
    lines = ran.stdout.splitlines()
    assert lines[0].startswith("reader  version 3.1  type 0x08  protocols 6C+6B")
    assert lines[1:] == ["inventory 1: 0 tag(s)", "inventory 2: 0 tag(s)"]


def test_sniff_shows_hex_and_the_frames_decoded(emulated_lane: Lane) -> None:
    ran = gatectl("diag", "serial", "sniff", str(emulated_lane.tmp / "scale"), "-n", "2")
    assert ran.code == 0, ran.stderr
    chunks = [line for line in ran.stdout.splitlines() if STAMPED.match(line)]
    decoded = [line for line in ran.stdout.splitlines() if line.strip().startswith("toledo")]
    assert chunks
    assert all(" B  02 2a " in line or " B  " in line for line in chunks)
    assert "02 2a" in ran.stdout  # STX, SWA as the emulator sends them
    assert len(decoded) >= 2


def test_probe_reports_the_settings_that_give_valid_frames(emulated_lane: Lane) -> None:
    port = str(emulated_lane.tmp / "scale")
    ran = gatectl("diag", "serial", "probe", port, "--protocol", "toledo", "--listen", "0.15")
    assert ran.code == 0, ran.stderr
    lines = ran.stdout.splitlines()
    assert lines[0].startswith("9600 8N1     VALID")
    assert lines[1] == "9600 7E1     cannot open (Invalid argument)"  # a pty refuses parity
    assert lines[-1].startswith("valid frames at: 9600 8N1, ")
    assert lines[-1].endswith("(first: 9600 8N1)")


@pytest.fixture
def silent_pty() -> Iterator[str]:
    master, slave = pty.openpty()
    try:
        yield os.ttyname(slave)
    finally:
        os.close(slave)
        os.close(master)


def test_probe_of_a_silent_line_finds_nothing_and_fails(silent_pty: str) -> None:
    ran = gatectl("diag", "serial", "probe", silent_pty, "-p", "toledo", "--listen", "0.05")
    assert ran.code == 4
    assert "9600 8N1     silent   good frames 0, errors 0" in ran.stdout
    assert ran.stdout.splitlines()[-1].startswith("no setting gave valid frames")


def test_the_wrong_device_times_out_and_a_missing_port_is_unreachable(
    emulated_lane: Lane, silent_pty: str
) -> None:
    ran = gatectl("diag", "rfid", silent_pty)
    assert ran.code == 4
    assert ran.stderr == "error: rfid: no answer to command 0x21\n"
    ran = gatectl("diag", "scale", str(emulated_lane.tmp / "nothing-here"))
    assert ran.code == 3
    assert ran.stderr.startswith("error: ")
    assert ran.stderr.count("\n") == 1
    ran = gatectl("diag", "scale", silent_pty, "--protocol", "mettler")
    assert ran.code == 2
    assert "--protocol: 'mettler'" in ran.stderr


@asynccontextmanager
async def on_pty(device: SerialDevice, tmp_path: Path, baud: int) -> AsyncIterator[SerialStream]:
    path = tmp_path / "dev"
    async with SerialPtyServer(path, device, EmulatedClock(), baud=baud, faults=FaultBook()):
        stream = await SerialStream.open(str(path), LineSettings(baud))
        try:
            yield stream
        finally:
            await stream.close()


async def test_rfid_inventory_names_the_tag_in_the_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = RfidModel(read_probability=1.0, first_read_s=0.0)
    model.set_tag(EPC, 3.0)
    async with on_pty(RfidInterface(model), tmp_path, 57600) as stream:
        assert await query_rfid(stream, 0, 1, 0.0, as_json=True) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["inventories"] == [[EPC.hex().upper()]]
    assert report["reader"]["version"] == "3.1"


async def test_an_sma_indicator_is_asked_for_each_weight(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = ScaleModel(settle_s=0.1, noise_kg=0.0)
    model.set_load_kg(24500.0)
    model.advance(5.0)
    async with on_pty(ScaleInterface(model, "sma"), tmp_path, 9600) as stream:
        assert await watch_scale(stream, "sma", 2, as_json=False) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split("  ", 1)[1] for line in lines[:2]] == [
        "  24,500.0 kg  tare 0  gross stable in range zeroed kg"  # SMA: zeroed unless E
    ] * 2
    assert lines[2] == "frames decoded 2 / protocol errors 0"


def test_probe_json_gives_every_setting_and_the_valid_ones(emulated_lane: Lane) -> None:
    port = str(emulated_lane.tmp / "rfid")
    ran = gatectl("diag", "serial", "probe", port, "-p", "rfid", "--listen", "0.1", "--json")
    assert ran.code == 0, ran.stderr
    report = json.loads(ran.stdout)
    verdicts = {s["line"]: s["verdict"] for s in report["settings"]}
    assert verdicts["57600 8N1"] == "valid"  # the reader answered its info request
    assert verdicts["9600 8E1"] == "cannot open"
    assert report["valid"][0] == "9600 8N1"
