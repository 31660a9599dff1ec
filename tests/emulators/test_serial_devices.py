"""Scale and RFID emulators: physics, and their wire protocols (golden vectors)."""

from __future__ import annotations

from devices.rfid.codec import RfidCommand, decode_response, encode_command, parse_inventory
from devices.scale.codec import SmaCommand, decode_sma_reply, encode_sma_command
from emulators.faults import FaultKind, FaultSpec
from emulators.rfid.interface import RfidInterface
from emulators.rfid.model import RfidModel, WorkMode
from emulators.scale.interface import ScaleInterface
from emulators.scale.model import ScaleModel

GOLDEN = bytes.fromhex("02 2A 30 20 30 32 34 35 30 30 30 30 30 30 30 30 0D 2C")
EPC = bytes.fromhex("2000708C2B380B2D00000000")


def settle(model: ScaleModel | RfidModel, seconds: float, dt: float = 0.05) -> None:
    for _ in range(round(seconds / dt)):
        model.advance(dt)


def test_a_settled_load_gives_the_golden_toledo_frame() -> None:
    scale = ScaleModel(noise_kg=0)
    scale.zero()
    scale.set_load_kg(24500)
    settle(scale, 5)
    assert ScaleInterface(scale).continuous() == GOLDEN


def test_motion_while_the_load_changes_then_settles_within_the_noise() -> None:
    scale = ScaleModel(noise_kg=5, seed=3)
    scale.set_load_kg(20000)
    settle(scale, 0.5)
    assert scale.reading().motion
    settle(scale, 2)
    reading = scale.reading()
    assert not reading.motion
    assert abs(reading.gross_kg - 20000) <= 5


def test_zero_within_capture_only_and_drift() -> None:
    scale = ScaleModel(noise_kg=0)
    settle(scale, 2)
    scale.set_load_kg(300)
    settle(scale, 3)
    assert scale.zero()
    assert scale.reading().gross_kg == 0
    scale.set_load_kg(20000)
    settle(scale, 3)
    assert not scale.zero()  # a truck is not a zero error
    scale.set_load_kg(300)  # back to the dead load that was zeroed
    settle(scale, 3)
    assert scale.reading().gross_kg == 0
    scale.faults.inject(FaultSpec(kind=FaultKind.SCALE_DRIFT, drift_kg_per_s=10), scale.now)
    settle(scale, 10)
    assert 95 <= scale.reading().gross_kg <= 105


def test_sma_answers_weight_and_unknown_commands() -> None:
    scale = ScaleModel(noise_kg=0)
    scale.set_load_kg(24500)
    settle(scale, 5)
    interface = ScaleInterface(scale, "sma")
    [reply] = interface.receive(encode_sma_command(SmaCommand.WEIGHT))
    assert decode_sma_reply("s", reply).weight_kg == 24500
    assert interface.receive(b"\nQ\r") == [b"\n?\r"]


def test_rfid_range_first_read_and_the_golden_reply() -> None:
    model = RfidModel(read_probability=1.0, first_read_s=0.5, seed=1)
    interface = RfidInterface(model)
    model.set_tag(EPC, 12.0)  # out of range
    settle(model, 1)
    [empty] = interface.receive(encode_command(0, RfidCommand.INVENTORY))
    assert decode_response("r", empty).status == 0xFB  # no tag
    model.set_tag(EPC, 6.0)
    settle(model, 0.55)
    [reply] = interface.receive(encode_command(0, RfidCommand.INVENTORY))
    assert reply == bytes.fromhex("13 00 01 01 01 0C 20 00 70 8C 2B 38 0B 2D 00 00 00 00 37 09")
    assert parse_inventory("r", decode_response("r", reply)) == (EPC,)


def test_rfid_ignores_other_addresses_and_flags_bad_frames() -> None:
    interface = RfidInterface(RfidModel(), address=0)
    assert interface.receive(encode_command(5, RfidCommand.INVENTORY)) == []
    [bad] = interface.receive(encode_command(0, 0x77))
    assert decode_response("r", bad).status == 0xFE
    corrupt = bytearray(encode_command(0, RfidCommand.INVENTORY))
    corrupt[-1] ^= 0xFF
    assert interface.receive(bytes(corrupt), 1.0)  # answered with 0xFE, not silence


def test_rfid_scan_mode_pushes() -> None:
    model = RfidModel(read_probability=1.0, first_read_s=0.0)
    interface = RfidInterface(model)
    interface.receive(encode_command(0, RfidCommand.WORK_MODE, b"\x01"))
    assert model.mode == WorkMode.SCAN
    model.set_tag(EPC, 3.0)
    settle(model, 0.5)
    pushed = interface.continuous()
    assert pushed is not None
    assert pushed.startswith(bytes.fromhex("11 00 EE 00") + EPC)
