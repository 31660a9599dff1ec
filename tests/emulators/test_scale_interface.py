"""The indicator's wire side, byte by byte: Toledo frames (DESIGN 5.3 golden vector, flags,
graduations, commands) and SMA request/response; any sequence of loads and commands
yields frames the controller's codec decodes."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.scale.codec import (
    SmaCommand,
    ToledoStreamParser,
    decode_sma_reply,
    decode_toledo,
    encode_sma_command,
    encode_toledo_command,
)
from emulators.faults import FaultKind, FaultSpec
from emulators.scale.interface import SMA_INFO_REPLY, ScaleInterface
from emulators.scale.model import ScaleModel

GOLDEN = bytes.fromhex("02 2A 30 20 30 32 34 35 30 30 30 30 30 30 30 30 0D 2C")
SMA_EXAMPLE = b"\n 1G       24500kg \r"
DT = 0.05


def run(model: ScaleModel, seconds: float) -> None:
    for _ in range(round(seconds / DT)):
        model.advance(DT)


def indicator(
    load_kg: float, protocol: str = "toledo", *, grad_kg: int = 1, zeroed: bool = True
) -> ScaleInterface:
    """A noiseless indicator at rest with `load_kg` on the deck (zeroed empty)."""
    model = ScaleModel(noise_kg=0, grad_kg=grad_kg)
    run(model, 2)
    if zeroed:
        assert model.zero()
    model.set_load_kg(load_kg)
    run(model, 2)
    return ScaleInterface(model, "sma" if protocol == "sma" else "toledo")


def toledo(interface: ScaleInterface) -> bytes:
    frame = interface.continuous()
    assert frame is not None
    return frame


def sma_frame(status: str, mode: str, kg: int) -> bytes:
    return f"\n{status}1{mode}  {kg:>10}kg \r".encode()


def sma(interface: ScaleInterface, command: SmaCommand) -> bytes:
    [reply] = interface.receive(encode_sma_command(command))
    return reply


def test_a_stable_24500_kg_load_gives_the_golden_toledo_frame() -> None:
    assert toledo(indicator(24_500)) == GOLDEN


def test_toledo_flags_motion_not_zeroed_and_out_of_range() -> None:
    fresh = decode_toledo("t", toledo(indicator(300, zeroed=False)))
    assert not fresh.zeroed
    assert fresh.weight_kg == 300
    over = decode_toledo("t", toledo(indicator(61_000)))
    assert over.out_of_range
    moving = indicator(0)
    moving.model.set_load_kg(10_000)
    moving.model.advance(DT)
    assert decode_toledo("t", toledo(moving)).motion


def test_toledo_shows_net_weight_and_tare_once_tared() -> None:
    interface = indicator(12_000)
    assert interface.receive(encode_toledo_command("T")) == []
    interface.model.set_load_kg(36_000)
    run(interface.model, 2)
    reading = decode_toledo("t", toledo(interface))
    assert (reading.net, reading.weight_kg, reading.tare_kg) == (True, 24_000, 12_000)
    interface.model.set_load_kg(10_000)
    run(interface.model, 2)
    below = decode_toledo("t", toledo(interface))
    assert (below.negative, below.weight_kg) == (True, -2_000)
    interface.receive(encode_toledo_command("C"))
    cleared = decode_toledo("t", toledo(interface))
    assert (cleared.net, cleared.weight_kg, cleared.tare_kg) == (False, 10_000, 0)


@pytest.mark.parametrize(
    ("grad_kg", "swa", "digits"),
    [(1, 0x2A, b"024520"), (5, 0x3A, b"024520"), (10, 0x29, b"002452"), (20, 0x31, b"002452")],
)
def test_the_graduation_sets_the_decimal_code_and_count_by(
    grad_kg: int, swa: int, digits: bytes
) -> None:
    frame = toledo(indicator(24_520, grad_kg=grad_kg))
    assert frame[1] == swa
    assert frame[4:10] == digits
    assert decode_toledo("t", frame).weight_kg == 24_520


def test_hundred_kg_graduations_drop_two_digits() -> None:
    frame = toledo(indicator(24_500, grad_kg=100))
    assert (frame[1] & 0x07, frame[4:10]) == (0, b"000245")
    assert decode_toledo("t", frame).weight_kg == 24_500


def test_toledo_zero_command_split_across_chunks_and_refused_outside_capture() -> None:
    interface = indicator(400, zeroed=False)
    assert interface.receive(b"Z") == []
    assert interface.receive(b"\r") == []
    assert decode_toledo("t", toledo(interface)).weight_kg == 0
    interface.model.set_load_kg(5_000)
    run(interface.model, 2)
    interface.receive(b"junk\rZ\r")
    assert decode_toledo("t", toledo(interface)).weight_kg == 4_600  # refused: a load


def test_sma_answers_the_design_example() -> None:
    interface = indicator(24_500, "sma")
    assert sma(interface, SmaCommand.WEIGHT) == SMA_EXAMPLE
    assert interface.continuous() is None  # polled: nothing unasked


def test_sma_statuses_for_refusals_range_zero_and_tare() -> None:
    interface = indicator(5_000, "sma", zeroed=False)
    assert sma(interface, SmaCommand.ZERO)[1:2] == b"E"  # beyond the zero capture range
    assert sma(interface, SmaCommand.TARE) == sma_frame(" ", "N", 0)
    interface.model.set_load_kg(0)
    run(interface.model, 2)
    assert sma(interface, SmaCommand.TARE)[1:2] == b"T"  # nothing to tare
    assert decode_sma_reply("s", sma(interface, SmaCommand.WEIGHT)).weight_kg == -5_000
    assert sma(interface, SmaCommand.CLEAR_TARE) == sma_frame("Z", "G", 0)
    interface.model.set_load_kg(70_000)
    run(interface.model, 2)
    assert decode_sma_reply("s", sma(interface, SmaCommand.WEIGHT)).out_of_range


def test_sma_motion_flag() -> None:
    interface = indicator(0, "sma")
    interface.model.set_load_kg(3_000)
    interface.model.advance(DT)
    assert decode_sma_reply("s", sma(interface, SmaCommand.WEIGHT)).motion


def test_sma_repeat_runs_until_the_next_command() -> None:
    interface = indicator(24_500, "sma")
    assert sma(interface, SmaCommand.REPEAT) == SMA_EXAMPLE
    assert interface.continuous() == SMA_EXAMPLE
    assert interface.continuous() == SMA_EXAMPLE
    assert sma(interface, SmaCommand.STOP) == SMA_EXAMPLE
    assert interface.continuous() is None


def test_sma_about_and_unknown_commands() -> None:
    interface = indicator(0, "sma")
    assert sma(interface, SmaCommand.ABOUT) == SMA_INFO_REPLY
    assert interface.receive(b"\nQ\r\nW") == [b"\n?\r"]
    assert interface.receive(b"\r") == [sma_frame("Z", "G", 0)]


def test_an_unknown_protocol_is_refused() -> None:
    with pytest.raises(ValueError, match="protocol"):
        ScaleInterface(ScaleModel(), "ascii")  # type: ignore[arg-type]


operations = st.lists(
    st.one_of(
        st.tuples(st.just("load"), st.floats(-100, 80_000, allow_nan=False)),
        st.tuples(st.just("wait"), st.floats(0.0, 3.0)),
        st.tuples(st.sampled_from(["Z", "T", "C"]), st.just(0.0)),
        st.tuples(st.just("drift"), st.floats(-200, 200)),
    ),
    max_size=25,
)


@settings(max_examples=60)
@given(operations, st.sampled_from([1, 2, 10, 50, 100]), st.integers(0, 10))
def test_any_loads_and_commands_give_frames_the_codec_decodes(
    ops: list[tuple[str, float]], grad_kg: int, seed: int
) -> None:
    model = ScaleModel(grad_kg=grad_kg, seed=seed)
    toledo_side, sma_side = ScaleInterface(model), ScaleInterface(model, "sma")
    parser = ToledoStreamParser("t")
    for op, value in ops:
        if op == "load":
            model.set_load_kg(value)
        elif op == "wait":
            run(model, value)
        elif op == "drift":
            drift = FaultSpec(kind=FaultKind.SCALE_DRIFT, drift_kg_per_s=value, duration_s=1)
            model.faults.inject(drift, model.now)
        else:
            toledo_side.receive(encode_toledo_command(op))
        [reading] = parser.feed(toledo(toledo_side))
        assert not isinstance(reading, Exception), reading
        assert reading.weight_kg % grad_kg == 0
        [reply] = sma_side.receive(encode_sma_command(SmaCommand.WEIGHT))
        decode_sma_reply("s", reply)
