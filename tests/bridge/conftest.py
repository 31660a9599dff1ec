"""Fixtures of the MQTT bridge tests: a throwaway mosquitto per test (tests/broker.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.broker import Mosquitto


@pytest.fixture
def mosquitto(tmp_path: Path) -> Iterator[Mosquitto]:
    """A started broker on 127.0.0.1 at a free port, anonymous clients allowed; its
    config, log and persistence in tmp_path/mosquitto; stopped by pid at teardown."""
    broker = Mosquitto(tmp_path / "mosquitto").start()
    try:
        yield broker
    finally:
        broker.stop()
