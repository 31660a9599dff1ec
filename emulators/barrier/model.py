"""Physics of a boom barrier and its controller board (DESIGN 5.2, CAME-like).

Theory of operation: the arm's position runs 0 (closed) .. 100 % (open) at 100 % per
`travel_s` while the state is OPENING or CLOSING; reaching an end sets OPEN or CLOSED and
counts one completed stroke. Commands follow the board's rules: `open` while closing
reverses; `close` is refused (last error CLOSE_REFUSED) while presence (photocell or
safety edge) is sensed; presence during a close stroke reverses the arm to opening, as a
real board does on its photocell; in FAULT only `reset` acts. Auto-close (holding 106)
closes the arm after `auto_close_s` fully open with no presence.

Faults: a stuck actuator (FaultBook, kind stuck_actuator) leaves commands and states as
they are but the arm does not move; a motor fault (`trip_motor_fault`, latched) puts the
board in FAULT with flag bit 2 until reset. The world sets presence with `set_obstacle`
and `set_safety_edge`. Time enters only through `advance(dt)`; `now` is the sum of dt.
`movements` logs each start, stop and end of a stroke with its cause, so the world's
safety oracle can tell a commanded closing from an auto-close or a reversal.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from enum import IntEnum, StrEnum

from devices.barrier.codec import BarrierFlags, BarrierState, BarrierStatus
from emulators.faults import FaultBook, FaultKind

LOG_LENGTH = 256  # the last strokes, for a look: 4096 of 16 barriers held 8 MB


class BarrierError(IntEnum):
    """Holding 103, last error code."""

    NONE = 0
    CLOSE_REFUSED = 1  # close commanded while presence was sensed
    REVERSED = 2  # presence during a close stroke: the arm reopened
    MOTOR = 3  # motor fault: FAULT until reset
    IGNORED_IN_FAULT = 4  # a command other than reset arrived in FAULT


class Cause(StrEnum):
    COMMAND = "command"
    AUTO_CLOSE = "auto_close"
    PRESENCE = "presence"
    LIMIT = "limit"
    FAULT = "fault"


@dataclass(frozen=True, slots=True)
class Movement:
    """The board entered `state` at `time` because of `cause`."""

    time: float
    state: BarrierState
    cause: Cause


class BarrierModel:
    def __init__(
        self,
        travel_s: float = 3.0,
        *,
        auto_close: bool = False,
        auto_close_s: float = 10.0,
        position: float = 0.0,
        faults: FaultBook | None = None,
        unit: int | None = None,
    ) -> None:
        if travel_s <= 0 or auto_close_s <= 0 or not 0 <= position <= 100:
            raise ValueError(
                f"barrier: travel_s {travel_s}, auto_close_s {auto_close_s}, "
                f"position {position} out of range"
            )
        self.travel_s = travel_s
        self.auto_close = auto_close
        self.auto_close_s = auto_close_s
        self.faults = faults or FaultBook()
        self.unit = unit
        self.now = 0.0
        self.position = position
        self.state = _rest_state(position)
        self.strokes = 0
        self.last_error = BarrierError.NONE
        self.obstacle = False
        self.safety_edge = False
        self.motor_fault = False
        self.movements: deque[Movement] = deque(maxlen=LOG_LENGTH)
        self._dwell_s = 0.0

    @property
    def presence(self) -> bool:
        return self.obstacle or self.safety_edge

    @property
    def fully_open(self) -> bool:
        return self.state == BarrierState.OPEN

    # ------------------------------------------------------------ commands (coils)
    def open(self) -> None:
        if self._ignored_in_fault() or self.state in (BarrierState.OPEN, BarrierState.OPENING):
            return
        self._enter(BarrierState.OPENING, Cause.COMMAND)

    def close(self) -> None:
        if self._ignored_in_fault() or self.state in (BarrierState.CLOSED, BarrierState.CLOSING):
            return
        if self.presence:
            self.last_error = BarrierError.CLOSE_REFUSED
            return
        self._enter(BarrierState.CLOSING, Cause.COMMAND)

    def stop(self) -> None:
        if self._ignored_in_fault():
            return
        if self.state in (BarrierState.OPENING, BarrierState.CLOSING):
            self._enter(BarrierState.STOPPED, Cause.COMMAND)

    def reset(self) -> None:
        if self.state != BarrierState.FAULT:
            return
        self.motor_fault = False
        self._enter(_rest_state(self.position), Cause.COMMAND)

    def set_auto_close(self, enabled: bool) -> None:
        self.auto_close = enabled
        self._dwell_s = 0.0

    def _ignored_in_fault(self) -> bool:
        if self.state == BarrierState.FAULT:
            self.last_error = BarrierError.IGNORED_IN_FAULT
            return True
        return False

    # ------------------------------------------------------------ world and faults
    def set_obstacle(self, active: bool) -> None:
        self.obstacle = active
        self._react_to_presence()

    def set_safety_edge(self, active: bool) -> None:
        self.safety_edge = active
        self._react_to_presence()

    def trip_motor_fault(self) -> None:
        self.motor_fault = True
        self.last_error = BarrierError.MOTOR
        self._enter(BarrierState.FAULT, Cause.FAULT)

    def _react_to_presence(self) -> None:
        if self.presence:
            self._dwell_s = 0.0
            if self.state == BarrierState.CLOSING:
                self.last_error = BarrierError.REVERSED
                self._enter(BarrierState.OPENING, Cause.PRESENCE)

    # ------------------------------------------------------------ physics
    def advance(self, dt: float) -> None:
        self.now += dt
        self._react_to_presence()
        if self.state in (BarrierState.OPENING, BarrierState.CLOSING):
            self._travel(dt)
        elif self.state == BarrierState.OPEN and self.auto_close and not self.presence:
            self._dwell_s += dt
            if self._dwell_s >= self.auto_close_s:
                self._enter(BarrierState.CLOSING, Cause.AUTO_CLOSE)

    def _travel(self, dt: float) -> None:
        if self.faults.active(FaultKind.STUCK_ACTUATOR, self.now, self.unit):
            return
        # the epsilon is the limit switch: float steps must not stop a hair short of it
        step = 100.0 * dt / self.travel_s + 1e-9
        if self.state == BarrierState.OPENING:
            self.position = min(100.0, self.position + step)
        else:
            self.position = max(0.0, self.position - step)
        if self.position in (0.0, 100.0):
            self.strokes += 1
            self._enter(_rest_state(self.position), Cause.LIMIT)

    def _enter(self, state: BarrierState, cause: Cause) -> None:
        self.state = state
        self._dwell_s = 0.0
        self.movements.append(Movement(self.now, state, cause))

    def status(self) -> BarrierStatus:
        flags = BarrierFlags(0)
        for on, flag in (
            (self.obstacle, BarrierFlags.OBSTACLE),
            (self.safety_edge, BarrierFlags.SAFETY_EDGE),
            (self.motor_fault, BarrierFlags.MOTOR_FAULT),
            (self.auto_close, BarrierFlags.AUTO_CLOSE),
        ):
            if on:
                flags |= flag
        return BarrierStatus(
            state=self.state,
            position=round(self.position),
            flags=flags,
            last_error=int(self.last_error),
            strokes=self.strokes,
            auto_close=self.auto_close,
        )


def _rest_state(position: float) -> BarrierState:
    if position <= 0:
        return BarrierState.CLOSED
    return BarrierState.OPEN if position >= 100 else BarrierState.STOPPED
