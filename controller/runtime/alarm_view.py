"""The lane's standing alarms as an operator sees them (status, the MQTT state topic).

The runtime keeps each alarm's text and the wall-clock time it was raised (the core
speaks monotonic seconds only); the core says whether an officer has acknowledged it.
"""

from __future__ import annotations

from collections.abc import Mapping

from controller.core.alarms import Alarm
from controller.journal.codec import rfc3339


def alarm_view(
    texts: Mapping[str, str], since: Mapping[str, float], standing: Mapping[str, Alarm]
) -> dict[str, dict[str, object]]:
    """Each alarm with its text, since when (UTC, RFC 3339) and its acknowledged flag."""
    view: dict[str, dict[str, object]] = {}
    for code, text in texts.items():
        raised, alarm = since.get(code), standing.get(code)
        view[code] = {
            "text": text,
            "since": None if raised is None else rfc3339(raised),
            "acknowledged": alarm is not None and alarm.acknowledged,
        }
    return view
