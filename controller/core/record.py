"""The lane's state record: everything the core remembers between steps, in one place.

The core's behaviours (handlers, operator commands, modes, the workflow's guards, the
output stage) read and write the lane only through `LaneCore.lane`, one `LaneRecord`,
so what a behaviour touches is named where it touches it (`self.lane.deck`), and the
whole of what a lane is, is this class. What the lane is configured with (params, the id
source, the interlock) and what its sensors show (the `SensorImage`) live beside it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from controller.core.alarms import Alarm
from controller.core.commands import Command
from controller.core.image import NO_EDGES, PresenceEdges
from controller.core.timer_ids import TimerId
from controller.core.types import Aspect, BarrierState, LaneState, Mode, Motion, Side
from controller.core.vehicles import ApproachVehicle, DeckVehicle, PlateSighting


@dataclass(slots=True)
class LaneRecord:
    # -------------------------------------------------------------- the workflow
    state: LaneState = LaneState.BOOTING
    deck: DeckVehicle | None = None  # the vehicle the workflow is processing
    approach: ApproachVehicle | None = None  # the vehicle being identified
    resume_state: LaneState | None = None  # where DEGRADED resumes
    admissions_allowed: bool = True  # the journal's admission capacity
    zero_retry_at: float = 0.0  # auto-zero waits for the scale to settle again
    auto_close_asked: set[Side] = field(default_factory=set)  # at boot: barriers' auto-close
    # -------------------------------------------------------------- the entry camera
    plates: list[PlateSighting] = field(default_factory=list)  # reads no vehicle has taken
    plate_ids: list[str] = field(default_factory=list)  # the last reads' ids (duplicates)
    reads_missed: int = 0  # vehicles in a row judged without a read
    # -------------------------------------------------------------- faults
    latched_fault: str | None = None  # journaled: survives a restart until a reset
    fault_reason: str = ""  # why the lane is about to enter FAULT
    faulted_in: LaneState | None = None  # what the lane was doing when it faulted
    # -------------------------------------------------------------- the operator's mode
    mode: Mode = Mode.AUTO  # what the operator last chose, journaled
    persisted_mode: Mode = Mode.AUTO  # what the journal holds
    draining: bool = False  # admit no more: a pending mode waits for the lane to close up
    pending_maintenance: bool = False  # maintenance, once the vehicle in process has left
    manual_lights: dict[Side, Aspect] = field(
        default_factory=lambda: {Side.ENTRY: Aspect.RED, Side.EXIT: Aspect.RED}
    )
    crossing: DeckVehicle | None = None  # a vehicle on the deck in maintenance
    crossings: set[str] = field(default_factory=set)  # maintenance crossings being committed
    # -------------------------------------------------------------- alarms
    conditions: dict[str, str] = field(default_factory=dict)  # condition alarms, code -> text
    standing: dict[str, Alarm] = field(default_factory=dict)  # every alarm, with its rule
    # -------------------------------------------------------------- outputs and the field
    lights: tuple[Aspect, Aspect] = (Aspect.RED, Aspect.RED)  # as last written
    signs: tuple[bool, bool] = (False, False)  # reposition, reverse: as last written
    outputs_written: bool = False
    commanded: dict[Side, Motion | None] = field(
        default_factory=lambda: {Side.ENTRY: None, Side.EXIT: None}
    )
    red_at: dict[Side, float] = field(  # when each side's light last went green -> red
        default_factory=lambda: {Side.ENTRY: float("-inf"), Side.EXIT: float("-inf")}
    )
    reopening: set[Side] = field(default_factory=set)  # S1's reopen stands at these sides
    previous_barrier: dict[Side, BarrierState] = field(default_factory=dict)  # last report
    timers: dict[TimerId, float] = field(default_factory=dict)  # armed, with deadlines
    # -------------------------------------------------------------- this step's scratch
    edges: PresenceEdges = NO_EDGES  # presence edges out of this event
    reported_now: Side | None = None  # the barrier this event reported
    out: list[Command] = field(default_factory=list)  # proposals, then vetted commands
