"""Standing alarms: what each one is, since when, whether an officer has seen it, and
the rule that clears it.

Theory of operation: every alarm is raised with its clearing rule (`Clears`), named
beside the `alarm(...)` call that raises it. After every step the core clears each
standing alarm whose cause has ended (`ClearAlarm`, event `alarm_cleared`). Conditions
the core already watches (`data_stale`, `lane_held`, `clearance_timeout`) clear through
that watch. An incident that is over as soon as it happened (a departure not seen) has
no cause left to end: it stays listed until an officer acknowledges it. An officer's
`ack` marks a standing alarm acknowledged; an acknowledged alarm whose cause has ended
is removed, one still active stays listed, marked acknowledged, until its cause ends.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from controller.core.types import ApproachStage, LaneState, Side

if TYPE_CHECKING:
    from controller.core.base import LaneBase


class Clears(StrEnum):
    """When an alarm's cause has ended."""

    ON_ACK = "on_ack"  # an incident, over when it happened: listed until acknowledged
    CONDITION = "condition"  # the core's condition watch clears it (base.watch_conditions)
    VEHICLE_GONE = "vehicle_gone"  # the deck vehicle it concerns is no longer on the deck
    STATE_LEFT = "state_left"  # the lane has left the state it was raised in
    FAULT_RESET = "fault_reset"  # the latched fault has been reset
    EMERGENCY_RESET = "emergency_reset"  # the emergency ended and its fault was reset
    ENTRY_CLEAR = "entry_clear"  # nothing at the entry arm any more
    EXIT_CLEAR = "exit_clear"  # nothing at the exit arm any more
    BEAMS_CLEAR = "beams_clear"  # both deck beams clear, or the vehicle gone
    APPROACH_RESOLVED = "approach_resolved"  # the approach vehicle identified or gone
    IDENTITY_SETTLED = "identity_settled"  # no longer held for an officer's confirmation
    ADMISSIONS_OPEN = "admissions_open"  # the journal has headroom again
    SCALE_ZEROED = "scale_zeroed"  # the scale reads within zero_band_kg


@dataclass(slots=True)
class Alarm:
    code: str
    message: str
    since: float  # monotonic, the event's `now` when it was raised
    clears: Clears
    transaction_id: str | None  # the deck vehicle when it was raised
    state: LaneState  # the lane's state when it was raised
    acknowledged: bool = False


def _vehicle_gone(core: LaneBase, alarm: Alarm) -> bool:
    deck = core.lane.deck
    return deck is None or deck.transaction_id != alarm.transaction_id


def _state_left(core: LaneBase, alarm: Alarm) -> bool:
    return core.lane.state != alarm.state


def _fault_reset(core: LaneBase, alarm: Alarm) -> bool:
    return core.lane.latched_fault is None


def _emergency_reset(core: LaneBase, alarm: Alarm) -> bool:
    return core.lane.state != LaneState.EMERGENCY and core.lane.latched_fault is None


def _entry_clear(core: LaneBase, alarm: Alarm) -> bool:
    return not core.image.presence(Side.ENTRY)


def _exit_clear(core: LaneBase, alarm: Alarm) -> bool:
    return not core.image.presence(Side.EXIT)


def _beams_clear(core: LaneBase, alarm: Alarm) -> bool:
    return core.image.beams_clear or _vehicle_gone(core, alarm)


def _approach_resolved(core: LaneBase, alarm: Alarm) -> bool:
    approach = core.lane.approach
    return approach is None or approach.stage != ApproachStage.AMBIGUOUS


def _identity_settled(core: LaneBase, alarm: Alarm) -> bool:
    approach = core.lane.approach
    held = (ApproachStage.MISMATCH, ApproachStage.CONFIRMING)
    return approach is None or approach.stage not in held


def _admissions_open(core: LaneBase, alarm: Alarm) -> bool:
    return core.lane.admissions_allowed


def _scale_zeroed(core: LaneBase, alarm: Alarm) -> bool:
    kg = core.image.weight_kg
    return kg is not None and abs(kg) <= core.params.zero_band_kg


def _at_once(core: LaneBase, alarm: Alarm) -> bool:
    return True


def _never(core: LaneBase, alarm: Alarm) -> bool:
    return False


_OVER: dict[Clears, Callable[[LaneBase, Alarm], bool]] = {
    Clears.ON_ACK: _at_once,
    Clears.CONDITION: _never,
    Clears.VEHICLE_GONE: _vehicle_gone,
    Clears.STATE_LEFT: _state_left,
    Clears.FAULT_RESET: _fault_reset,
    Clears.EMERGENCY_RESET: _emergency_reset,
    Clears.ENTRY_CLEAR: _entry_clear,
    Clears.EXIT_CLEAR: _exit_clear,
    Clears.BEAMS_CLEAR: _beams_clear,
    Clears.APPROACH_RESOLVED: _approach_resolved,
    Clears.IDENTITY_SETTLED: _identity_settled,
    Clears.ADMISSIONS_OPEN: _admissions_open,
    Clears.SCALE_ZEROED: _scale_zeroed,
}
# rules whose end the step's alarm watch looks for (the others end elsewhere, or at ack)
WATCHED = frozenset(set(Clears) - {Clears.ON_ACK, Clears.CONDITION})


def cause_over(core: LaneBase, alarm: Alarm) -> bool:
    """The alarm's cause has ended (an incident's at once; a condition's never here)."""
    return _OVER[alarm.clears](core, alarm)
