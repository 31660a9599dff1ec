"""I/O module helpers: coil patterns and identity."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from controller.errors import DeviceProtocolError
from devices.io.codec import bits_to_pattern, decode_identity, pattern_to_bits


def test_bit_n_is_coil_n() -> None:
    assert pattern_to_bits(0b101, 4) == (True, False, True, False)
    assert bits_to_pattern([True, False, True]) == 0b101


@given(st.integers(0, 0xFFFF))
def test_patterns_round_trip(pattern: int) -> None:
    assert bits_to_pattern(pattern_to_bits(pattern)) == pattern


def test_bad_patterns_name_the_argument() -> None:
    with pytest.raises(ValueError, match="pattern"):
        pattern_to_bits(1 << 16)
    with pytest.raises(ValueError, match="bits"):
        bits_to_pattern([False] * 17)


def test_identity() -> None:
    identity = decode_identity("io", [0x1214, 0x0100])
    assert identity.model_code == 0x1214
    assert str(identity) == "model 0x1214, firmware 1.0"
    with pytest.raises(DeviceProtocolError):
        decode_identity("io", [0x1214])
