"""The world's view of a lane's device models: the `Panel` of emulators/world.py.

It maps named signals to the I/O module's input channels and named lamps to its coils by
the lane's wiring, presence at an arm to the barrier's photocell, the load on the deck to
the scale, and the tags near the antenna to the RFID reader's field.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from devices.barrier.codec import BarrierState
from emulators.barrier.model import BarrierModel
from emulators.io.model import IoModel


class LoadSink(Protocol):
    def set_load_kg(self, kg: float) -> None: ...


class TagField(Protocol):
    def set_tag(self, epc: bytes, distance_m: float | None) -> None: ...


class ModelPanel:
    def __init__(
        self,
        io: IoModel,
        *,
        inputs: Mapping[str, int],
        outputs: Mapping[str, int],
        barriers: Mapping[str, BarrierModel],
        scale: LoadSink,
        rfid: TagField,
    ) -> None:
        self.io, self.inputs, self.outputs = io, inputs, outputs
        self.barriers, self.scale, self.rfid = barriers, scale, rfid
        self._tags: set[bytes] = set()
        # the lamps' channels by side, looked up once: the drivers look at them every step
        self._green = {side: outputs[f"{side}_green"] for side in ("entry", "exit")}
        self._red = {side: outputs[f"{side}_red"] for side in ("entry", "exit")}

    def set_signal(self, name: str, active: bool) -> None:
        channel = self.inputs.get(name)
        if channel is not None:
            self.io.set_input(channel, active)

    def green(self, side: str) -> bool:
        return self.io.output(self._green[side])

    def red(self, side: str) -> bool:
        return self.io.output(self._red[side])

    def sign(self, name: str) -> bool:
        channel = self.outputs.get(name)
        return channel is not None and self.io.output(channel)

    def arm_position(self, side: str) -> float:
        return float(self.barriers[side].position)

    def arm_closing(self, side: str) -> bool:
        return self.barriers[side].state == BarrierState.CLOSING

    def arm_fully_open(self, side: str) -> bool:
        barrier = self.barriers[side]
        return barrier.state == BarrierState.OPEN and barrier.position >= 100

    def set_photocell(self, side: str, active: bool) -> None:
        barrier = self.barriers[side]
        if barrier.obstacle != active:
            barrier.set_obstacle(active)

    def set_load(self, kg: float) -> None:
        self.scale.set_load_kg(kg)

    def set_tags(self, tags: dict[bytes, float]) -> None:
        for gone in self._tags - tags.keys():
            self.rfid.set_tag(gone, None)
        for epc, distance in tags.items():
            self.rfid.set_tag(epc, distance)
        self._tags = set(tags)
