"""The I/O module's physics: inputs, outputs, the communication watchdog, faults."""

from __future__ import annotations

import pytest

from emulators.faults import FaultBook, FaultKind, FaultSpec
from emulators.io.model import IoModel

SAFE = 0b0101  # entry_red, exit_red


def test_power_on_outputs_are_the_safe_pattern() -> None:
    model = IoModel(safe_pattern=SAFE)
    assert model.outputs == SAFE
    assert not model.tripped


def test_world_inputs_are_reported() -> None:
    model = IoModel()
    model.set_input(0, True)
    model.set_input(15, True)
    model.set_input(0, False)
    assert model.inputs == 1 << 15
    with pytest.raises(ValueError, match="channel"):
        model.set_input(16, True)


def test_writes_change_outputs_and_are_logged() -> None:
    model = IoModel(safe_pattern=SAFE)
    model.advance(1.0)
    assert model.write_outputs(0, [0, 1, 1, 0])
    assert model.outputs == 0b0110
    assert model.output(1)
    assert not model.output(0)
    assert list(model.output_log) == [(1.0, 0b0110)]


def test_watchdog_trips_after_the_timeout_without_requests() -> None:
    model = IoModel(safe_pattern=SAFE, watchdog_ms=300)
    model.write_outputs(0, [0, 1, 0, 1])
    seen = []
    for dt in (0.29, 0.02):
        model.advance(dt)
        seen.append((model.tripped, model.outputs))
    assert seen == [(False, 0b1010), (True, SAFE)]


def test_requests_keep_the_watchdog_quiet() -> None:
    model = IoModel(watchdog_ms=300)
    for _ in range(10):
        model.advance(0.2)
        model.note_request()
    assert not model.tripped


def test_tripped_watchdog_refuses_writes_until_reset() -> None:
    model = IoModel(safe_pattern=SAFE, watchdog_ms=100)
    model.advance(0.2)
    assert not model.write_outputs(0, [0, 1])
    assert model.outputs == SAFE
    model.reset_watchdog()
    assert model.write_outputs(0, [0, 1])
    assert model.outputs == 0b0110


def test_watchdog_off_never_trips() -> None:
    model = IoModel(safe_pattern=SAFE)
    model.write_outputs(0, [0, 1])
    model.advance(3600.0)
    assert not model.tripped
    assert model.outputs == 0b0110


def test_safe_pattern_is_masked_to_the_outputs() -> None:
    model = IoModel(outputs=4)
    model.set_safe_pattern(0xFFFF)
    assert model.safe_pattern == 0b1111


def test_sensor_stuck_faults_change_what_is_reported() -> None:
    faults = FaultBook()
    model = IoModel(faults=faults)
    model.set_input(2, True)
    faults.inject(FaultSpec(kind=FaultKind.SENSOR_STUCK_ON, channel=5, duration_s=1.0), 0.0)
    faults.inject(FaultSpec(kind=FaultKind.SENSOR_STUCK_OFF, channel=2, duration_s=1.0), 0.0)
    assert model.inputs == 1 << 5
    model.advance(1.5)
    assert model.inputs == 1 << 2


def test_stuck_actuator_keeps_an_output() -> None:
    faults = FaultBook()
    model = IoModel(faults=faults)
    faults.inject(FaultSpec(kind=FaultKind.STUCK_ACTUATOR, channel=1), 0.0)
    assert model.write_outputs(0, [1, 1, 1])
    assert model.outputs == 0b101
    faults.clear(FaultKind.STUCK_ACTUATOR)
    faults.inject(FaultSpec(kind=FaultKind.STUCK_ACTUATOR), 0.0)
    assert model.write_outputs(0, [0, 0, 0])
    assert model.outputs == 0b101
