"""The lane camera in a simulation, and what the simulated day says of identity fraud.

Theory of operation: the entry camera's emulator (emulators/camera) watches the lane's
world on the physics ticker; every event body it makes (with its real JPEG snapshot) is
decoded by devices/camera/codec.py as the gateway's listener decodes it and reaches the
lane's core as the runtime's camera loop feeds it, snapshot hashed. No HTTP: the day
runs in virtual time in one process (the listener, driver and snapshot store have their
own tests, the full-stack test and bench/camera.py).

`IdentityTally` follows every truck whose tag is another's (a swapped tag) from the lane's
events and records: caught before the deck (its identity held at the approach), caught by
weight (held on the deck), or missed (committed without either: must be 0); and the
officers' workload, every hold they had to decide.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime

from controller.core.commands import PublishEvent, TransactionRecord
from controller.core.events import PlateReported
from controller.core.table import CROSS_CHECK
from controller.core.types import Outcome, Side, Verdict
from controller.runtime.lane import LaneRuntime
from devices.camera.codec import InvalidEvent, decode_event
from emulators.camera.interface import CameraInterface
from emulators.camera.model import CameraFeed, CameraModel, zone_for
from emulators.world import World

# the identity methods of a vehicle admitted on its tag alone, marked
MARKED = frozenset(method for verdict, method in CROSS_CHECK.values() if verdict == Verdict.MARKED)
POLL_S = 0.1  # the camera looks 10 times a second: a truck moves 28 cm meanwhile


class SimCamera:
    """One lane's entry camera on its world, its reads fed to the lane's runtime."""

    def __init__(self, world: World, camera_id: str, seed: int, epoch_s: float) -> None:
        self.model = CameraModel(zone=zone_for("entry", world.geo), seed=seed)
        self.feed = CameraFeed(self.model, world)
        epoch = datetime.fromtimestamp(epoch_s, UTC)
        self.interface = CameraInterface(self.model, camera_id, epoch)
        self.camera_id = camera_id
        self.reads = 0
        self.rejected = 0  # bodies the listener would answer 400 (tests inject them)
        self.injected: list[bytes] = []  # bodies to deliver besides the camera's own
        self.delivered: list[bytes] = []  # the last bodies delivered (tests replay them)
        self.held: list[bytes] = []  # bodies held back while the network is slow
        self.held_until = 0.0  # loop time: then the held bodies arrive, newest first

    async def run(self, runtime: LaneRuntime, time_scale: float = 1.0) -> None:
        """Look at the world every POLL_S of loop time (the world moves on its own
        ticker, `time_scale` times faster) and feed what the camera reports."""
        loop = asyncio.get_running_loop()
        last = loop.time()
        while True:
            now = loop.time()
            self.feed.advance((now - last) * time_scale)
            last = now
            for body in self._due(now):
                self._deliver(runtime, body)
            await asyncio.sleep(POLL_S)

    def _due(self, now: float) -> list[bytes]:
        bodies = self.interface.events() + self.injected
        self.injected = []
        if now < self.held_until:
            self.held += bodies
            return []
        late, self.held = self.held[::-1], []  # out of order, as a congested link may
        return late + bodies

    def _deliver(self, runtime: LaneRuntime, body: bytes) -> None:
        try:
            read = decode_event(self.camera_id, body)  # the listener's own check
        except InvalidEvent:
            self.rejected += 1  # the listener's 400: the core never sees it
            return
        self.delivered = [*self.delivered[-15:], body]
        sha = hashlib.sha256(read.snapshot_jpeg).hexdigest()
        runtime.feed(
            PlateReported(
                runtime.now(),
                Side.ENTRY,
                read.camera,
                read.event_id,
                read.plate,
                read.country,
                read.confidence,
                sha,
            )
        )
        self.reads += 1


@dataclass
class IdentityTally:
    swapped_tags: set[str] = field(default_factory=set)  # tags on a truck not their own
    dead_tags: int = 0
    caught_before_deck: set[str] = field(default_factory=set)
    caught_by_weight: int = 0
    missed: int = 0
    held_on_deck: set[str] = field(default_factory=set)
    identity_holds: int = 0  # identity_mismatch and plate_only_identity: an officer decides
    false_mismatches: int = 0  # held at the approach, the truck its papers say
    deck_holds: int = 0
    by_plate: int = 0  # trucks without a tag answering, asked about by their plate
    marked: int = 0  # admitted on the tag alone (the read missed, unsure or none on file)

    def heard(self, event: PublishEvent, deck_tag: str | None) -> None:
        data = event.data
        if event.type == "identity_checked" and data.get("verdict") == "hold":
            self._mismatch(str(data.get("tag")))
        elif event.type == "alarm" and data.get("code") == "plate_only_identity":
            self.identity_holds += 1
        elif event.type == "alarm" and data.get("code") == "lane_held":
            self.deck_holds += 1
            if deck_tag is not None:
                self.held_on_deck.add(deck_tag)
        elif event.type == "vehicle_identified" and data.get("by") == "plate":
            self.by_plate += 1

    def _mismatch(self, tag: str) -> None:
        self.identity_holds += 1
        if tag in self.swapped_tags:
            self.caught_before_deck.add(tag)
        else:
            self.false_mismatches += 1

    def committed(self, record: TransactionRecord) -> None:
        if record.identity is not None and record.identity.method in MARKED:
            self.marked += 1  # counted once a vehicle, as its record says
        tag = record.tag
        if tag is None or tag not in self.swapped_tags or tag in self.caught_before_deck:
            return
        if tag in self.held_on_deck:
            self.caught_by_weight += 1
        elif record.outcome in (Outcome.CLEARED, Outcome.RELEASED_UNWEIGHED):
            self.missed += 1


def identity_report(tallies: list[IdentityTally], vehicles: int) -> dict[str, object]:
    holds = sum(t.identity_holds + t.deck_holds for t in tallies)
    identity = sum(t.identity_holds for t in tallies)
    per_100 = 100 / vehicles if vehicles else 0.0
    return {
        "swapped_tags": sum(len(t.swapped_tags) for t in tallies),
        "swapped_caught_before_deck": sum(len(t.caught_before_deck) for t in tallies),
        "swapped_caught_by_weight": sum(t.caught_by_weight for t in tallies),
        "swapped_missed": sum(t.missed for t in tallies),
        "dead_tags": sum(t.dead_tags for t in tallies),
        "identified_by_plate": sum(t.by_plate for t in tallies),
        "admitted_on_tag_alone": sum(t.marked for t in tallies),
        "false_identity_holds": sum(t.false_mismatches for t in tallies),
        "officer_holds_per_100_vehicles": round(holds * per_100, 2),
        "identity_holds_per_100_vehicles": round(identity * per_100, 2),
    }
