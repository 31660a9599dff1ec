"""Shared test settings: hypothesis profiles.

`ci` (default) is seeded and sized for `make test`; `long` is for bench/ and soak runs:
select it with GATEBRIDGE_HYPOTHESIS_PROFILE=long.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    max_examples=200,
    stateful_step_count=60,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "long",
    max_examples=5000,
    stateful_step_count=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("GATEBRIDGE_HYPOTHESIS_PROFILE", "ci"))
