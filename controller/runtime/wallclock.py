"""Wall-clock times beside the monotonic ones the lanes run on.

Theory of operation: the core and the runtime time everything with the event loop's
monotonic clock (stage times, a device's last good exchange), which says nothing to a
person or to a consumer in another process. `WallClock` maps a monotonic instant to UTC
through an injected wall clock: the instant's distance from the loop's now, taken off the
wall clock's now. The mapping is read at the moment of use, so a wall clock stepped by NTP
moves later answers with it and never the monotonic durations. Times are RFC 3339 UTC
with milliseconds, ending in `Z` (DESIGN 6).
"""

from __future__ import annotations

from collections.abc import Callable

from controller.journal.codec import rfc3339


class WallClock:
    def __init__(self, wall: Callable[[], float], monotonic: Callable[[], float]) -> None:
        self._wall, self._monotonic = wall, monotonic

    def at(self, monotonic_s: float) -> str:
        """The UTC time of a monotonic instant of this process's loop."""
        return rfc3339(self._wall() - (self._monotonic() - monotonic_s))

    def now(self) -> str:
        return rfc3339(self._wall())
