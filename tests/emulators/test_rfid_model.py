"""The RFID field stepped in emulated time: range, first-read latency, read probability,
scan mode and a dead antenna (DESIGN 3: 8 m, first read within 0.5 s)."""

from __future__ import annotations

import pytest

from emulators.faults import FaultBook, FaultKind, FaultSpec
from emulators.rfid.model import PUSH_BUFFER, RfidModel, WorkMode

EPC = bytes.fromhex("2000708C2B380B2D00000000")
DT = 0.01


def run(model: RfidModel, seconds: float) -> None:
    for _ in range(round(seconds / DT)):
        model.advance(DT)


def certain(*, first_read_s: float = 0.5, scan_interval_s: float = 0.2, seed: int = 0) -> RfidModel:
    """A reader that reads every readable tag on every round."""
    return RfidModel(
        read_probability=1.0, first_read_s=first_read_s, scan_interval_s=scan_interval_s, seed=seed
    )


def test_a_tag_beyond_8_m_is_never_read() -> None:
    model = certain()
    model.set_tag(EPC, 8.5)
    run(model, 5)
    assert model.inventory() == []
    model.set_tag(EPC, 8.0)
    run(model, 0.5)
    assert model.inventory() == [EPC]


def test_every_tag_is_first_readable_within_0_5_s_and_not_all_at_once() -> None:
    model = certain(seed=4)
    tags = [bytes([i]) * 12 for i in range(40)]
    for tag in tags:
        model.set_tag(tag, 5.0)
    assert len(model.readable()) < len(tags) // 4  # the first-read delay is real
    run(model, 0.25)
    assert 0 < len(model.readable()) < len(tags)
    run(model, 0.26)
    assert sorted(model.readable()) == sorted(tags)


def test_leaving_range_forgets_the_tag_and_reentering_waits_again() -> None:
    model = certain(first_read_s=0.5, seed=1)
    model.set_tag(EPC, 3.0)
    run(model, 0.6)
    assert model.readable() == [EPC]
    model.set_tag(EPC, 9.0)
    assert model.readable() == []
    model.set_tag(EPC, 7.0)
    model.set_tag(EPC, 6.0)  # moving within range keeps the draw
    run(model, 0.51)
    assert model.readable() == [EPC]
    model.set_tag(EPC, None)
    assert model.readable() == []


def test_read_probability_per_round_is_seeded() -> None:
    def hits(seed: int) -> list[bool]:
        model = RfidModel(read_probability=0.6, first_read_s=0.0, seed=seed)
        model.set_tag(EPC, 2.0)
        return [model.inventory() == [EPC] for _ in range(1_000)]

    first = hits(9)
    assert 520 <= sum(first) <= 680
    assert hits(9) == first


def test_scan_mode_pushes_each_read_every_interval() -> None:
    model = certain(first_read_s=0.0, scan_interval_s=0.2)
    model.set_tag(EPC, 4.0)
    run(model, 1.0)
    assert list(model.pushes) == []  # answer mode: nothing is pushed
    model.mode = WorkMode.SCAN
    run(model, 1.0)
    assert list(model.pushes) == [EPC] * 5


def test_the_push_buffer_is_bounded() -> None:
    model = certain(first_read_s=0.0, scan_interval_s=0.01)
    model.mode = WorkMode.SCAN
    model.set_tag(EPC, 1.0)
    run(model, 5)
    assert len(model.pushes) == PUSH_BUFFER


def test_a_dead_antenna_reads_nothing_until_the_fault_ends() -> None:
    faults = FaultBook()
    model = RfidModel(read_probability=1.0, first_read_s=0.0, faults=faults)
    model.set_tag(EPC, 1.0)
    dead = FaultSpec(kind=FaultKind.SENSOR_STUCK_OFF, channel=0, duration_s=1.0)
    faults.inject(dead, model.now)
    assert model.inventory() == []
    run(model, 1.01)
    assert model.inventory() == [EPC]


@pytest.mark.parametrize(("epc", "distance"), [(b"", 1.0), (EPC, -1.0), (EPC, float("inf"))])
def test_impossible_tags_are_refused(epc: bytes, distance: float) -> None:
    with pytest.raises(ValueError, match="tag"):
        RfidModel().set_tag(epc, distance)


def test_impossible_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="rfid"):
        RfidModel(read_probability=0)
    with pytest.raises(ValueError, match="rfid"):
        RfidModel(scan_interval_s=0)
