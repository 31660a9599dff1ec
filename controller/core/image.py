"""The sensor image: the latest known state of every device of one lane.

Theory of operation: every device report updates the image before the workflow sees the
event, so the workflow, the interlock filter and the invariants all judge against the same
picture. The image also derives what several rules need: presence at an arm (its loop OR
the barrier's own photocell/edge), since when presence has been clear (S1's clear-hold),
deck occupancy (S3), weight stability over a window (S4, S12), and device health (S7).
A device that has never reported, or is unhealthy, makes every judgement that depends on
it fail closed.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from controller.core.events import (
    BarrierReported,
    DeviceHealthChanged,
    Event,
    InputsChanged,
    WeightReported,
)
from controller.core.params import LaneParams
from controller.core.types import (
    ARM_LOOP,
    BARRIER_DEVICE,
    SIDES,
    BarrierState,
    Device,
    Side,
    Signal,
)


@dataclass(frozen=True, slots=True)
class PresenceEdges:
    """Rising/falling edges seen while applying one event."""

    rose: tuple[Side, ...] = ()
    fell: tuple[Side, ...] = ()
    approach_rose: bool = False
    approach_fell: bool = False


NO_EDGES = PresenceEdges()


class SensorImage:
    def __init__(self, params: LaneParams) -> None:
        self.params = params
        self.inputs: dict[str, bool] = {}
        self.barriers: dict[Side, BarrierReported] = {}
        self.weight: WeightReported | None = None
        self._window: deque[tuple[float, float]] = deque()
        self.reported: set[Device] = set()
        self.unhealthy: set[Device] = set()
        self.clear_since: dict[Side, float | None] = {Side.ENTRY: None, Side.EXIT: None}
        self.present_since: dict[Side, float] = {Side.ENTRY: 0.0, Side.EXIT: 0.0}
        self.now = 0.0

    # ------------------------------------------------------------------ updates
    def apply(self, event: Event) -> PresenceEdges:
        self.now = event.now
        if isinstance(event, InputsChanged):
            return self._edges(event.now, lambda: self._set_inputs(event))
        if isinstance(event, BarrierReported):
            return self._edges(event.now, lambda: self._set_barrier(event))
        if isinstance(event, WeightReported):
            self._set_weight(event)
        elif isinstance(event, DeviceHealthChanged):
            self._set_health(event)
        return NO_EDGES

    def _set_inputs(self, event: InputsChanged) -> None:
        self.inputs.update(event.inputs)
        self.reported.add(Device.IO)

    def _set_barrier(self, event: BarrierReported) -> None:
        self.barriers[event.side] = event
        self.reported.add(BARRIER_DEVICE[event.side])

    def _set_weight(self, event: WeightReported) -> None:
        self.weight = event
        self.reported.add(Device.SCALE)
        window = self._window
        window.append((event.now, event.weight_kg))
        horizon = event.now - self.params.stable_window_s
        # keep one sample at or before the horizon: its value held until the next one came
        while len(window) > 1 and window[1][0] <= horizon:
            window.popleft()

    def _set_health(self, event: DeviceHealthChanged) -> None:
        if event.healthy:
            self.unhealthy.discard(event.device)
            if event.device == Device.RFID:
                self.reported.add(Device.RFID)
        else:
            self.unhealthy.add(event.device)

    def _edges(self, now: float, update: Callable[[], None]) -> PresenceEdges:
        before = (self.presence(Side.ENTRY), self.presence(Side.EXIT), self.approach_occupied)
        update()
        after = (self.presence(Side.ENTRY), self.presence(Side.EXIT), self.approach_occupied)
        self._first_seen_clear(now)
        if before == after:
            return NO_EDGES
        rose = tuple(s for s, b, a in zip(SIDES, before, after, strict=False) if a and not b)
        fell = tuple(s for s, b, a in zip(SIDES, before, after, strict=False) if b and not a)
        for side in fell:
            self.clear_since[side] = now
        for side in rose:
            self.clear_since[side] = None
            self.present_since[side] = now
        return PresenceEdges(rose, fell, after[2] and not before[2], before[2] and not after[2])

    def _first_seen_clear(self, now: float) -> None:
        """Clear from the first moment both of a side's presence sources are known and
        clear (at boot nothing 'fell'): S1's hold then runs from there, so an arm found
        open over an empty lane closes once `clear_hold_ms` has really been seen."""
        for side in SIDES:
            known = ARM_LOOP[side] in self.inputs and side in self.barriers
            if known and self.clear_since[side] is None and not self.presence(side):
                self.clear_since[side] = now

    # ------------------------------------------------------------------ judgements
    def signal(self, name: Signal) -> bool:
        return self.inputs.get(name, False)

    @property
    def approach_occupied(self) -> bool:
        return self.inputs.get(Signal.APPROACH_LOOP, False)

    def presence(self, side: Side) -> bool:
        barrier = self.barriers.get(side)
        return self.inputs.get(ARM_LOOP[side], False) or (barrier is not None and barrier.presence)

    def fresh_presence(self, side: Side) -> bool:
        """Presence at `side` as a device still answering reports it (the arm loop on the
        I/O module, or the barrier's photocell)."""
        barrier = self.barriers.get(side)
        loop = self.fresh(Device.IO) and self.inputs.get(ARM_LOOP[side], False)
        cell = barrier is not None and barrier.presence and self.fresh(BARRIER_DEVICE[side])
        return loop or cell

    def presence_data_fresh(self, side: Side) -> bool:
        needed = (Device.IO, BARRIER_DEVICE[side])
        return all(d in self.reported and d not in self.unhealthy for d in needed)

    def clear_for(self, side: Side, now: float) -> float:
        """Seconds presence at `side` has been clear (0 while present or never seen clear)."""
        since = self.clear_since[side]
        if since is None or self.presence(side):
            return 0.0
        return now - since

    def present_for(self, side: Side, now: float) -> float:
        """Seconds presence at `side` has lasted (0 while clear)."""
        return now - self.present_since[side] if self.presence(side) else 0.0

    def barrier_state(self, side: Side) -> BarrierState:
        report = self.barriers.get(side)
        return BarrierState.UNKNOWN if report is None else report.state

    def fully_open(self, side: Side) -> bool:
        report = self.barriers.get(side)
        return report is not None and report.state == BarrierState.OPEN and report.position == 100

    def fully_closed(self, side: Side) -> bool:
        report = self.barriers.get(side)
        return report is not None and report.state == BarrierState.CLOSED

    @property
    def beams_clear(self) -> bool:
        return not (self.signal(Signal.BEAM_IN) or self.signal(Signal.BEAM_OUT))

    @property
    def weight_kg(self) -> float | None:
        return None if self.weight is None else self.weight.weight_kg

    def deck_empty(self) -> bool:
        """S3: both beams clear and weight below `empty_kg` (with fresh scale and I/O data)."""
        if not self.fresh(Device.IO) or not self.fresh(Device.SCALE) or self.weight is None:
            return False
        return self.beams_clear and self.weight.weight_kg < self.params.empty_kg

    def weight_stable(self, now: float) -> bool:
        """Motion flag off and within `stable_band_kg` over the last `stable_window_s`."""
        weight = self.weight
        window = self._window
        if weight is None or weight.motion or weight.out_of_range or not window:
            return False
        if window[0][0] > now - self.params.stable_window_s:
            return False
        values = [kg for _, kg in window]
        return max(values) - min(values) <= self.params.stable_band_kg

    def fresh(self, device: Device) -> bool:
        return device in self.reported and device not in self.unhealthy

    @property
    def fresh_io_and_scale(self) -> bool:
        return self.fresh(Device.IO) and self.fresh(Device.SCALE)

    @property
    def all_fresh(self) -> bool:
        return all(self.fresh(d) for d in self.params.devices)
