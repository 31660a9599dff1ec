"""Physics of a lane camera reading number plates (ANPR).

Theory of operation: the camera watches a zone of the lane (metres along it, like the RFID
range: by default the 8 m before the entry arm). It reads a truck's plate once, as the
truck's front enters the zone, and reports the read up to `latency_s` later (the
recogniser's time, seeded uniform). Seeded dice decide the outcome: missed (`miss_rate`),
misread (`misread_rate`: one character swapped for its look-alike, 0/O, 8/B, 1/I, 5/S,
2/Z ...), or read right; each read's confidence is drawn from a beta distribution with the
mean and concentration given, a lower mean for misreads (recognisers are less sure of what
they get wrong). The world feeds the model through `sight(trucks)`; time enters only
through `advance(dt)`. A truck is read once however long it stands in the zone, or if it
backs out and in again, so a stop-and-go queue does not flood the gateway.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from emulators.geometry import Geometry

ENTRY_ZONE = (-8.0, -1.0)  # fronts between 8 m and 1 m before the entry arm
EXIT_VIEW_M = 3.0  # the exit camera sees the last metres before the exit arm
# look-alikes a recogniser confuses; every digit has one, so any plate can be misread
CONFUSIONS = {
    "0": "O", "O": "0", "D": "0", "8": "B", "B": "8", "1": "I", "I": "1", "5": "S",
    "S": "5", "2": "Z", "Z": "2", "6": "G", "G": "6", "7": "T", "T": "7", "4": "A",
    "A": "4", "3": "8", "9": "8", "C": "G",
}  # fmt: skip
REMEMBERED = 512  # trucks already read: more than a lane's queue ever holds
BACKLOG = 256  # reads not yet taken by the interface (the camera's event buffer)


def zone_for(side: str, geometry: Geometry) -> tuple[float, float]:
    """Where a side's camera looks: the approach before the entry arm (the RFID field's
    near part), or the end of the deck before the exit arm, where a weighed truck's front
    stops (so the exit camera reads the truck on the deck, before it is released)."""
    if side == "entry":
        return (-geometry.rfid_range, geometry.stop_line - 0.3)
    if side == "exit":
        return (geometry.exit_arm - EXIT_VIEW_M, geometry.exit_arm)
    raise ValueError(f"camera side: entry or exit, not {side!r}")


class Sighted(Protocol):
    """What the camera sees of a truck (emulators/world.py's Truck)."""

    @property
    def ident(self) -> int: ...
    @property
    def plate(self) -> str: ...
    @property
    def front(self) -> float: ...


class Trucks(Protocol):
    """Where the trucks are (emulators/world.py's World)."""

    @property
    def trucks(self) -> Sequence[Sighted]: ...


@dataclass(frozen=True, slots=True)
class PlateSighting:
    """One read: what the camera reported, and the truth it was reading."""

    truck: int
    true_plate: str
    plate: str
    confidence: float
    at: float  # emulated seconds

    @property
    def misread(self) -> bool:
        return self.plate != self.true_plate


@dataclass(frozen=True, slots=True)
class Confidence:
    """A beta distribution by its mean and concentration (higher: narrower)."""

    mean: float
    concentration: float

    def draw(self, rng: random.Random) -> float:
        alpha = self.mean * self.concentration
        return round(rng.betavariate(alpha, self.concentration - alpha), 3)


class CameraModel:
    def __init__(
        self,
        *,
        zone: tuple[float, float] = ENTRY_ZONE,
        miss_rate: float = 0.02,
        misread_rate: float = 0.03,
        latency_s: float = 0.3,
        confidence: Confidence = Confidence(0.92, 40),
        misread_confidence: Confidence = Confidence(0.65, 12),
        seed: int = 0,
    ) -> None:
        if not zone[0] < zone[1] or latency_s < 0:
            raise ValueError(f"camera: zone (lo < hi), latency_s >= 0; got {zone}, {latency_s}")
        if not (0 <= miss_rate <= 1 and 0 <= misread_rate <= 1):
            raise ValueError(f"camera: rates in 0..1, got {miss_rate}, {misread_rate}")
        for shape in (confidence, misread_confidence):
            if not (0 < shape.mean < 1 and shape.concentration > 0):
                raise ValueError(f"camera: confidence mean in (0, 1), concentration > 0: {shape}")
        self.zone, self.latency_s = zone, latency_s
        self.miss_rate, self.misread_rate = miss_rate, misread_rate
        self.confidence, self.misread_confidence = confidence, misread_confidence
        self._rng = random.Random(seed)  # noqa: S311 - recogniser dice
        self.now = 0.0
        self.missed = 0
        self._read: set[int] = set()
        self._read_order: deque[int] = deque()
        self._pending: list[PlateSighting] = []
        self.reads: deque[PlateSighting] = deque()
        self.overflowed = 0  # reads lost because nobody took them in time

    def sight(self, trucks: Iterable[Sighted]) -> None:
        lo, hi = self.zone
        for truck in trucks:
            if lo <= truck.front <= hi and truck.ident not in self._read and truck.plate:
                self._remember(truck.ident)
                self._recognise(truck)

    def _remember(self, ident: int) -> None:
        self._read.add(ident)
        self._read_order.append(ident)
        if len(self._read_order) > REMEMBERED:
            self._read.discard(self._read_order.popleft())

    def _recognise(self, truck: Sighted) -> None:
        rng = self._rng
        if rng.random() < self.miss_rate:
            self.missed += 1
            return
        plate, shape = truck.plate, self.confidence
        if rng.random() < self.misread_rate:
            plate, shape = misread(plate, rng), self.misread_confidence
        at = self.now + rng.uniform(0, self.latency_s)
        self._pending.append(PlateSighting(truck.ident, truck.plate, plate, shape.draw(rng), at))

    def advance(self, dt: float) -> None:
        self.now += dt
        due = [read for read in self._pending if read.at <= self.now]
        if due:
            self._pending = [read for read in self._pending if read.at > self.now]
            self.reads.extend(sorted(due, key=lambda read: read.at))
            while len(self.reads) > BACKLOG:
                self.reads.popleft()
                self.overflowed += 1

    def take(self) -> list[PlateSighting]:
        """The reads reported since the last call, oldest first."""
        taken = list(self.reads)
        self.reads.clear()
        return taken


def misread(plate: str, rng: random.Random) -> str:
    """`plate` with one look-alike character swapped (unchanged if it has none)."""
    places = [i for i, char in enumerate(plate) if char in CONFUSIONS]
    if not places:
        return plate
    at = rng.choice(places)
    return plate[:at] + CONFUSIONS[plate[at]] + plate[at + 1 :]


class CameraFeed:
    """The camera on a world: each tick (after the world's) it looks at the trucks."""

    def __init__(self, camera: CameraModel, world: Trucks) -> None:
        self.camera, self.world = camera, world

    def advance(self, dt: float) -> None:
        self.camera.sight(self.world.trucks)
        self.camera.advance(dt)
