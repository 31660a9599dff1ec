"""Barrier register decoding: the map of DESIGN 5.2, and refusal of what cannot be."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from controller.errors import DeviceProtocolError
from devices.barrier.codec import (
    BarrierFlags,
    BarrierState,
    BarrierStatus,
    decode_status,
    encode_status,
)


def test_decodes_a_fully_open_barrier() -> None:
    status = decode_status("entry", [16, 100, 0b10000, 0, 5, 1, 1])
    assert status.state == BarrierState.OPEN
    assert status.fully_open
    assert not status.fully_closed
    assert status.strokes == 5 + (1 << 16)  # low word first
    assert status.auto_close
    assert status.flags == BarrierFlags.AUTO_CLOSE
    assert not status.presence


def test_presence_is_photocell_or_safety_edge() -> None:
    assert decode_status("x", [33, 50, 1, 0, 0, 0, 0]).presence
    assert decode_status("x", [33, 50, 2, 0, 0, 0, 0]).presence
    assert not decode_status("x", [33, 50, 4, 0, 0, 0, 0]).presence


def test_unknown_position_is_none() -> None:
    assert decode_status("x", [0, 255, 0, 0, 0, 0, 0]).position is None


@pytest.mark.parametrize(
    ("registers", "names"),
    [
        ([18, 0, 0, 0, 0, 0, 0], "holding 100"),
        ([17, 101, 0, 0, 0, 0, 0], "holding 101"),
        ([17, 0, 0x40, 0, 0, 0, 0], "holding 102"),
        ([17, 0, 0, 0, 0, 0, 2], "holding 106"),
        ([17, 0, 0, 0, 0, 0], "expected 7"),
        ([17, 0, 0, 0, 0x10000, 0, 0], "holding 104"),
    ],
)
def test_refuses_what_a_controller_cannot_say(registers: list[int], names: str) -> None:
    with pytest.raises(DeviceProtocolError, match=names):
        decode_status("entry_barrier", registers)


@given(
    state=st.sampled_from(BarrierState),
    position=st.none() | st.integers(0, 100),
    flags=st.integers(0, 31),
    error=st.integers(0, 0xFFFF),
    strokes=st.integers(0, 0xFFFFFFFF),
    auto=st.booleans(),
)
def test_round_trip(
    state: BarrierState, position: int | None, flags: int, error: int, strokes: int, auto: bool
) -> None:
    status = BarrierStatus(state, position, BarrierFlags(flags), error, strokes, auto)
    assert decode_status("x", encode_status(status)) == status


@given(st.lists(st.integers(-5, 70000), min_size=0, max_size=9))
def test_arbitrary_registers_decode_or_raise_protocol_error(registers: list[int]) -> None:
    try:
        status = decode_status("x", registers)
    except DeviceProtocolError as error:
        message = str(error)
    else:
        assert encode_status(status) == registers  # what decodes is exactly what was read
        return
    assert message.startswith("x: ")
