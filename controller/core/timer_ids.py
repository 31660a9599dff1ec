"""The core's timers, named as data: `StartTimer`, `CancelTimer` and `TimerExpired` carry
a `TimerId`, and the runtime keys its armed timers by it.

A timer is one of a few kinds; a kind watched at each arm carries its side, the data-loss
latch carries its device, the rest stand alone. The id checks that it names its subject
as its kind needs, so a handler reads `timer.side` and never parses a name back.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from controller.core.types import Device, Side


class TimerKind(StrEnum):
    BOOT = "boot"  # S9: every device must have reported by then
    CLEARANCE = "clearance"  # the clearance decision is due
    CLEARANCE_RETRY = "clearance_retry"  # ask again after a timeout
    PLATE_WAIT = "plate_wait"  # the approach vehicle's plate read is due
    POSITION = "position"  # the vehicle has not stood still on the deck
    STALL = "stall"  # no progress in a working state
    SETTLE = "settle"  # data_stale: every device fresh long enough to clear it
    STROKE_START = "stroke_start"  # S8: the commanded stroke must start
    STROKE = "stroke"  # S8: and finish
    STOP = "stop"  # S8: a technician's stop must bring the arm to rest
    CLOSE_AFTER_RED = "close_after_red"  # a manual close waits behind its red
    RED_SETTLE = "red_settle"  # the workflow's close waits behind its red (a step then)
    CLEAR_HOLD = "clear_hold"  # presence gone long enough (a step then)
    LAMP = "lamp"  # S2: the commanded red lamp must be lit
    LATCH = "latch"  # S7: a device's data lost longer than latch_ms


PER_SIDE = frozenset(
    {
        TimerKind.STROKE_START,
        TimerKind.STROKE,
        TimerKind.STOP,
        TimerKind.CLOSE_AFTER_RED,
        TimerKind.RED_SETTLE,
        TimerKind.CLEAR_HOLD,
        TimerKind.LAMP,
    }
)
PER_DEVICE = frozenset({TimerKind.LATCH})


@dataclass(frozen=True, slots=True)
class TimerId:
    kind: TimerKind
    side: Side | None = None
    device: Device | None = None

    def __post_init__(self) -> None:
        if (self.side is not None) != (self.kind in PER_SIDE):
            raise ValueError(f"timer {self.kind}: side {self.side} does not fit its kind")
        if (self.device is not None) != (self.kind in PER_DEVICE):
            raise ValueError(f"timer {self.kind}: device {self.device} does not fit its kind")

    def __str__(self) -> str:
        subject = self.side or self.device
        return self.kind.value if subject is None else f"{self.kind}:{subject}"


BOOT = TimerId(TimerKind.BOOT)
CLEARANCE = TimerId(TimerKind.CLEARANCE)
CLEARANCE_RETRY = TimerId(TimerKind.CLEARANCE_RETRY)
PLATE_WAIT = TimerId(TimerKind.PLATE_WAIT)
POSITION = TimerId(TimerKind.POSITION)
STALL = TimerId(TimerKind.STALL)
SETTLE_DATA_STALE = TimerId(TimerKind.SETTLE)


def at(kind: TimerKind, side: Side) -> TimerId:
    """The timer of `kind` at the arm on `side`."""
    return _AT[kind, side]


def latch(device: Device) -> TimerId:
    return _LATCH[device]


# made once: the step asks for these every time, and an id is a value
_AT = {(kind, side): TimerId(kind, side) for kind in PER_SIDE for side in Side}
_LATCH = {device: TimerId(TimerKind.LATCH, device=device) for device in Device}
