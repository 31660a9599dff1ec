"""The emulated lane the diag tests talk to: one `gatectl emulate` per test module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.controller.cli.diag_lane import Lane, serve_lane


@pytest.fixture(scope="module")
def emulated_lane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lane]:
    yield from serve_lane(tmp_path_factory.mktemp("diag-lane"))
