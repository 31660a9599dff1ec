"""The core's vocabulary: small enums shared by events, commands and the state table.

The core does not import the device layer, so barrier state codes are repeated here (the
values are DESIGN 5.2's holding-100 codes; the runtime passes them through unchanged).
"""

from __future__ import annotations

from enum import IntEnum, StrEnum


class Side(StrEnum):
    ENTRY = "entry"
    EXIT = "exit"


# iterating an Enum class builds a generator each time; the core does it on every step
SIDES: tuple[Side, ...] = (Side.ENTRY, Side.EXIT)


class Aspect(StrEnum):
    """A signal head shows exactly one aspect: never dark, never red and green together."""

    RED = "red"
    GREEN = "green"


class BarrierState(IntEnum):
    UNKNOWN = 0
    OPEN = 16
    CLOSED = 17
    STOPPED = 19
    OPENING = 32
    CLOSING = 33
    FAULT = 64


class Motion(StrEnum):
    OPEN = "open"
    CLOSE = "close"
    STOP = "stop"
    RESET = "reset"


class MoveReason(StrEnum):
    """Why a barrier command was proposed: the interlock judges each reason by its rules."""

    ADMIT = "admit"  # entry opens for the approach vehicle (S3, S12)
    RELEASE = "release"  # exit opens for the committed vehicle (S5, S10)
    SECURE = "secure"  # close behind or in front of a vehicle (S1)
    SAFETY_REOPEN = "safety_reopen"  # presence during a close stroke (S1): always allowed
    HALT = "halt"  # stop a stroke on fault or data loss: always allowed
    EVACUATE = "evacuate"  # EMERGENCY mode only
    MANUAL = "manual"  # a technician through gatectl (S11: same rules as the workflow)


class Device(StrEnum):
    IO = "io"
    ENTRY_BARRIER = "entry_barrier"
    EXIT_BARRIER = "exit_barrier"
    SCALE = "scale"
    RFID = "rfid"


BARRIER_DEVICE = {Side.ENTRY: Device.ENTRY_BARRIER, Side.EXIT: Device.EXIT_BARRIER}


class Signal(StrEnum):
    """Named I/O module inputs (channel numbers are wiring, mapped by the runtime)."""

    APPROACH_LOOP = "approach_loop"
    ENTRY_ARM_LOOP = "entry_arm_loop"
    BEAM_IN = "beam_in"
    BEAM_OUT = "beam_out"
    EXIT_ARM_LOOP = "exit_arm_loop"
    ENTRY_RED_OK = "entry_red_ok"
    EXIT_RED_OK = "exit_red_ok"
    LOOP_FAULT = "loop_fault"


ARM_LOOP = {Side.ENTRY: Signal.ENTRY_ARM_LOOP, Side.EXIT: Signal.EXIT_ARM_LOOP}
RED_OK = {Side.ENTRY: Signal.ENTRY_RED_OK, Side.EXIT: Signal.EXIT_RED_OK}  # lamp current


class Decision(StrEnum):
    GRANT = "grant"
    DENY = "deny"
    INSPECT = "inspect"


class Outcome(StrEnum):
    CLEARED = "cleared"
    RELEASED_UNWEIGHED = "released_unweighed"
    REJECTED = "rejected"
    MAINTENANCE_CROSSING = "maintenance_crossing"  # crossed the deck in maintenance


class Mode(StrEnum):
    """The operator's mode: safety state, journaled and restored at boot."""

    AUTO = "auto"
    MAINTENANCE = "maintenance"
    CLOSED = "closed"
    EMERGENCY = "emergency"  # an evacuation outlives a restart: the arms stay open


class Role(StrEnum):
    VIEWER = "viewer"
    TECHNICIAN = "technician"
    OFFICER = "officer"


class OperatorAction(StrEnum):
    MODE_AUTO = "mode_auto"
    MODE_MAINTENANCE = "mode_maintenance"
    MODE_CLOSED = "mode_closed"
    MODE_EMERGENCY = "mode_emergency"
    BARRIER_OPEN = "barrier_open"
    BARRIER_CLOSE = "barrier_close"
    BARRIER_STOP = "barrier_stop"
    LIGHT_RED = "light_red"
    LIGHT_GREEN = "light_green"
    RELEASE = "release"
    REJECT = "reject"
    IDENTIFY = "identify"
    RESET = "reset"
    ACK = "ack"
    CONFIRM = "confirm"  # an officer vouches for the approach vehicle's identity
    REFUSE = "refuse"  # an officer turns the approach vehicle away


class ApproachStage(StrEnum):
    WAITING_TAG = "waiting_tag"
    REQUESTED = "requested"
    GRANTED = "granted"
    DENIED = "denied"
    AMBIGUOUS = "ambiguous"
    TIMED_OUT = "timed_out"
    MISMATCH = "identity_mismatch"  # tag and plate disagree: held for an officer
    CONFIRMING = "awaiting_confirmation"  # cleared by its plate alone: an officer confirms


class LaneState(StrEnum):
    """The lane's state: the deck stage in AUTO, or the mode that overrides the workflow."""

    BOOTING = "booting"
    IDLE = "idle"  # deck free; admits the granted approach vehicle when S3/S12 hold
    ADMITTING = "admitting"  # entry opening for the admitted vehicle
    ENTERING = "entering"  # entry open; vehicle driving onto the deck
    WEIGHING = "weighing"  # entry closing/closed; waiting for a stable weight (S4)
    COMMITTING = "committing"  # transaction written, waiting for durability (S10)
    RELEASING = "releasing"  # exit opening
    LEAVING = "leaving"  # exit open; vehicle driving off
    CLEARING = "clearing"  # closing up; waiting for both closed, deck empty, zero (S12)
    CLOSED = "closed"  # drained: admits no more
    HOLD = "hold"  # waiting for an officer
    DEGRADED = "degraded"  # device data stale: lights red, no movement, resumes by itself
    FAULT = "fault"  # latched until an authenticated reset
    MAINTENANCE = "maintenance"  # technician control, interlocks still on
    EMERGENCY = "emergency"  # both barriers open and stay open, all red


class EventKind(StrEnum):
    INPUTS = "inputs_changed"
    BARRIER = "barrier_reported"
    WEIGHT = "weight_reported"
    TAGS = "tags_read"
    PLATE = "plate_reported"
    DECISION = "clearance_decided"
    TIMER = "timer_expired"
    HEALTH = "device_health_changed"
    COMMITTED = "transaction_committed"
    COMMIT_FAILED = "transaction_commit_failed"
    CAPACITY = "admission_capacity_changed"
    VIOLATION = "invariant_violated"
    OP_MODE_AUTO = "op_mode_auto"
    OP_MODE_MAINTENANCE = "op_mode_maintenance"
    OP_MODE_CLOSED = "op_mode_closed"
    OP_MODE_EMERGENCY = "op_mode_emergency"
    OP_BARRIER_OPEN = "op_barrier_open"
    OP_BARRIER_CLOSE = "op_barrier_close"
    OP_BARRIER_STOP = "op_barrier_stop"
    OP_LIGHT_RED = "op_light_red"
    OP_LIGHT_GREEN = "op_light_green"
    OP_RELEASE = "op_release"
    OP_REJECT = "op_reject"
    OP_IDENTIFY = "op_identify"
    OP_RESET = "op_reset"
    OP_ACK = "op_ack"
    OP_CONFIRM = "op_confirm"
    OP_REFUSE = "op_refuse"


OPERATOR_KINDS = frozenset(k for k in EventKind if k.value.startswith("op_"))


class PlateEvidence(StrEnum):
    """What the camera says about the approach vehicle, against the plate its clearance
    names (crosscheck.py judges it; table.CROSS_CHECK says what follows)."""

    AGREES = "agrees"  # a confident read of the expected plate
    LOOKALIKE = "lookalike"  # a confident read equal to it once look-alikes are folded
    DISAGREES = "disagrees"  # a confident read of another plate
    UNSURE = "unsure"  # the best read is below the lane's min_confidence
    MISSED = "missed"  # no read within plate_wait_s of the approach
    UNNAMED = "unnamed"  # the clearance names no plate to compare with
    PENDING = "pending"  # no read yet, still inside plate_wait_s


class Verdict(StrEnum):
    PROCEED = "proceed"  # cross-checked: admit
    MARKED = "marked"  # admit on the tag alone; the transaction says why
    HOLD = "hold"  # identity mismatch: held at the approach for an officer
    WAIT = "wait"  # the plate may still come
