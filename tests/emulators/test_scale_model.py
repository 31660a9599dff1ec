"""The weighbridge model stepped in emulated time: settling, noise, motion, zero, tare,
drift, range and graduations (DESIGN 3 defaults)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from emulators.faults import FaultBook, FaultKind, FaultSpec
from emulators.scale.model import ScaleModel

DT = 0.01


def run(model: ScaleModel, seconds: float) -> None:
    for _ in range(round(seconds / DT)):
        model.advance(DT)


def at_rest(load_kg: float, *, capacity_kg: float = 60_000, grad_kg: int = 1) -> ScaleModel:
    model = ScaleModel(noise_kg=0, capacity_kg=capacity_kg, grad_kg=grad_kg)
    model.set_load_kg(load_kg)
    run(model, 2)
    return model


def test_the_display_settles_1_5_s_after_the_load_stops_changing() -> None:
    model = ScaleModel(noise_kg=0)
    model.set_load_kg(24_500)
    run(model, 0.5)
    early = model.reading()
    assert early.motion
    assert 20_000 < early.gross_kg < 24_500  # on its way, not there yet
    run(model, 0.98)
    assert model.reading().motion  # 1.48 s after the last change
    run(model, 0.03)
    reading = model.reading()
    assert not reading.motion
    assert reading.gross_kg == 24_500


def test_a_load_still_changing_keeps_the_motion_flag() -> None:
    model = ScaleModel(noise_kg=0)
    for step in range(300):  # a truck rolling on for 3 s
        model.set_load_kg(step * 80.0)
        model.advance(DT)
    assert model.reading().motion
    run(model, 1.6)
    assert not model.reading().motion


def test_a_change_within_one_graduation_is_not_motion() -> None:
    model = at_rest(10_000, grad_kg=10)
    model.set_load_kg(10_008)
    assert not model.motion
    model.set_load_kg(10_011)  # 11 kg from where it settled: beyond one graduation
    assert model.motion


def test_noise_at_rest_stays_within_5_kg_and_repeats_with_the_seed() -> None:
    def readings(seed: int) -> list[int]:
        model = ScaleModel(seed=seed)
        model.set_load_kg(30_000)
        run(model, 2)
        return [model.reading().gross_kg for _ in range(500)]

    first = readings(7)
    assert all(abs(kg - 30_000) <= 5 for kg in first)
    assert len(set(first)) > 5  # it is noise, not an offset
    assert readings(7) == first
    assert readings(8) != first


def test_no_noise_while_in_motion() -> None:
    model = ScaleModel(seed=1)
    model.set_load_kg(1_000)
    model.advance(DT)
    assert len({model.reading().gross_kg for _ in range(20)}) == 1


def test_power_up_not_zeroed_until_the_first_zero() -> None:
    model = at_rest(300)
    assert model.reading().not_zeroed
    assert model.zero()
    reading = model.reading()
    assert not reading.not_zeroed
    assert reading.gross_kg == 0


def test_zero_is_refused_outside_the_capture_range_in_motion_and_under_tare() -> None:
    model = at_rest(1_300)  # default capture: 2 % of 60,000 kg = 1,200 kg
    assert not model.zero()
    assert model.reading().not_zeroed
    model.set_load_kg(1_100)
    assert not model.zero()  # in motion
    run(model, 2)
    assert model.tare()
    assert not model.zero()  # a tare is in force
    model.clear_tare()
    assert model.zero()


def test_the_capture_range_follows_the_current_zero_within_the_total_zero_range() -> None:
    model = at_rest(1_000)
    assert model.zero()
    model.set_load_kg(2_100)
    run(model, 2)
    assert model.zero()  # 1,100 kg from the current zero; 2,100 kg in all
    model.set_load_kg(2_500)
    run(model, 2)
    assert not model.zero()  # 400 kg is capturable, but 2,500 kg exceeds 4 % of capacity
    assert model.reading().gross_kg == 400


def test_a_drift_fault_walks_the_zero_and_stops_when_it_expires() -> None:
    faults = FaultBook()
    model = ScaleModel(noise_kg=0, faults=faults)
    run(model, 2)
    assert model.zero()
    drift = FaultSpec(kind=FaultKind.SCALE_DRIFT, drift_kg_per_s=10, duration_s=10)
    faults.inject(drift, model.now)
    run(model, 5)
    assert 49 <= model.reading().gross_kg <= 51
    run(model, 10)
    assert 99 <= model.reading().gross_kg <= 101
    assert model.zero()  # within capture: the technician's zero clears it
    assert model.reading().gross_kg == 0


def test_tare_then_net_and_clear() -> None:
    model = at_rest(15_000)
    assert model.tare()
    model.set_load_kg(40_000)
    run(model, 2)
    reading = model.reading()
    assert (reading.gross_kg, reading.tare_kg, reading.net_kg) == (40_000, 15_000, 25_000)
    assert reading.tared
    assert reading.displayed_kg == 25_000
    model.clear_tare()
    assert model.reading().displayed_kg == 40_000


@pytest.mark.parametrize("load_kg", [0.0, 60_500.0])
def test_tare_is_refused_for_an_empty_or_overloaded_deck(load_kg: float) -> None:
    model = at_rest(load_kg)
    assert not model.tare()
    assert model.reading().tare_kg == 0


def test_tare_is_refused_in_motion() -> None:
    model = ScaleModel(noise_kg=0)
    model.set_load_kg(5_000)
    run(model, 0.5)
    assert not model.tare()


def test_a_negative_noisy_zero_is_never_taken_as_tare() -> None:
    model = ScaleModel(seed=2)
    run(model, 2)
    for _ in range(200):
        model.tare()
        assert model.reading().tare_kg >= 0


def test_out_of_range_above_capacity() -> None:
    assert not at_rest(60_000).reading().out_of_range
    assert at_rest(60_001).reading().out_of_range
    assert at_rest(20_001, capacity_kg=20_000).reading().out_of_range


def test_readings_are_rounded_to_the_graduation() -> None:
    model = ScaleModel(grad_kg=20, seed=3)
    model.set_load_kg(24_517)
    run(model, 2)
    readings = {model.reading().gross_kg for _ in range(100)}
    assert readings <= {24_500, 24_520}


@pytest.mark.parametrize(
    "make",
    [
        lambda: ScaleModel(grad_kg=3),
        lambda: ScaleModel(settle_s=0),
        lambda: ScaleModel(noise_kg=-1),
        lambda: ScaleModel(capacity_kg=2_000_000),
    ],
)
def test_impossible_settings_are_refused(make: Callable[[], ScaleModel]) -> None:
    with pytest.raises(ValueError, match="scale:"):
        make()


def test_a_load_that_is_not_a_number_is_refused() -> None:
    with pytest.raises(ValueError, match="load"):
        ScaleModel().set_load_kg(float("nan"))
