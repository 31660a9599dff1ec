"""The lane's physical world: trucks, drivers and what the sensors see.

Theory of operation (Lewis style, pure): `advance(dt)` moves every truck by its driver's
rules, then writes what the geometry implies into the device models through a `Panel`:
loop and beam inputs, barrier photocells, the load on the deck, tags in the RF field. The
drivers read only what real drivers see: the lights (the I/O module's outputs), the arms
(barrier positions) and the signs. By default they obey; misbehaving drivers tailgate,
stop under an arm, stop half on the deck, reverse off the deck the wrong way, or carry a
swapped tag; a truck with a dead tag is driven as the lights say, but the reader never
sees its tag (an officer identifies it by hand).

The safety oracle trusts nothing the controller says: it watches the devices' ground
truth and records incidents, separating what the controller caused (green with the arm
not fully open, an arm closing onto a truck that had permission, two admitted trucks on
the deck, a truck released without a committed transaction) from what a driver caused
(entering on red behind another truck, stopping under an arm, stopping half on the deck,
reversing off the deck towards the entry).
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from emulators.geometry import Geometry, Physics, covers, fraction_inside, overlaps

SIDES = ("entry", "exit")
STOP_UNDER_ARM_S = 20.0  # a stalled engine, a driver on the phone: longer than any crossing
REVERSE_AFTER_S = (0.5, 6.0)  # how long a reversing driver stands on the deck before backing


# Vietnamese plate series letters (no I, J, O, Q, R, W); C is the truck series
PLATE_SERIES = "CCCCDHLK"


def vietnamese_plate(rng: random.Random) -> str:
    """A Vietnamese-style truck plate as a camera normalises it: province code, series
    letter, five digits (29C-123.45 is read 29C12345)."""
    return f"{rng.randint(11, 99)}{rng.choice(PLATE_SERIES)}{rng.randrange(100_000):05d}"


class Behaviour(StrEnum):
    OBEY = "obey"
    TAILGATE = "tailgate"  # follows the truck ahead through the entry, ignoring the light
    STOP_UNDER_ARM = "stop_under_arm"  # stops with its rear under the entry arm for a while
    HALF_ON_DECK = "half_on_deck"  # rear over beam_in until told to move or shown green
    SWAPPED_TAG = "swapped_tag"  # carries a tag whose manifest weight and plate are not its own
    REVERSE_OFF_DECK = "reverse_off_deck"  # backs off the deck and out through the entry
    DEAD_TAG = "dead_tag"  # obeys, but its tag never answers the reader: identified by hand


# drivers who follow the lights and the signs (a dead tag is no fault of its driver)
OBEDIENT = frozenset({Behaviour.OBEY, Behaviour.DEAD_TAG})


class Phase(StrEnum):
    APPROACH = "approach"
    AT_STOP = "at_stop"
    ENTERING = "entering"
    ON_DECK = "on_deck"
    LEAVING = "leaving"
    REVERSING = "reversing"  # a denied truck backs out of the lane
    BACKING = "backing"  # a truck reverses off the deck towards the entry, unbidden
    GONE = "gone"


class Panel(Protocol):
    """The device models as the world touches them."""

    def set_signal(self, name: str, active: bool) -> None: ...
    def green(self, side: str) -> bool: ...
    def sign(self, name: str) -> bool: ...
    def arm_position(self, side: str) -> float: ...
    def arm_closing(self, side: str) -> bool: ...
    def arm_fully_open(self, side: str) -> bool: ...
    def set_photocell(self, side: str, active: bool) -> None: ...
    def set_load(self, kg: float) -> None: ...
    def set_tags(self, tags: dict[bytes, float]) -> None: ...


@dataclass(slots=True)
class Truck:
    ident: int
    tag: bytes
    gross_kg: int
    length_m: float
    behaviour: Behaviour = Behaviour.OBEY
    declared_kg: int | None = None
    front: float = -40.0
    phase: Phase = Phase.APPROACH
    wait_s: float = 0.0
    entered_on_green: bool | None = None
    left_on_green: bool | None = None
    dwell_s: float = 0.0
    repositioned: bool = False
    reverse_after_s: float = 0.0  # REVERSE_OFF_DECK: standing time on the deck before backing
    turned_back: bool = False  # REVERSE_OFF_DECK: has backed off once (then it obeys)
    backing: bool = False  # moved backwards in the last step (the queue behind makes room)
    plate: str = ""  # the number plate a lane camera reads (emulators/camera/)
    # the plate the manifest has for its tag: `plate`, but for a SWAPPED_TAG truck the
    # plate of the vehicle whose tag it carries
    papers_plate: str = ""

    @property
    def body(self) -> tuple[float, float]:
        return (self.front - self.length_m, self.front)

    @property
    def tag_hex(self) -> str:
        return self.tag.hex().upper()


@dataclass(frozen=True, slots=True)
class Incident:
    time: float
    kind: str
    truck: int
    caused_by: str  # "controller" or "driver"


@dataclass(slots=True)
class Oracle:
    incidents: list[Incident] = field(default_factory=list)
    _open: set[tuple[str, int]] = field(default_factory=set)

    def record(self, now: float, kind: str, truck: int, caused_by: str) -> None:
        if (kind, truck) not in self._open:
            self._open.add((kind, truck))
            self.incidents.append(Incident(now, kind, truck, caused_by))

    def clear(self, kind: str, truck: int) -> None:
        self._open.discard((kind, truck))

    def by(self, caused_by: str) -> list[Incident]:
        return [i for i in self.incidents if i.caused_by == caused_by]


class World:
    def __init__(
        self,
        panel: Panel,
        *,
        geometry: Geometry | None = None,
        physics: Physics | None = None,
        seed: int = 0,
        committed: Callable[[str], bool] = lambda _tag: True,
        keep_gone: int | None = None,
    ) -> None:
        if keep_gone is not None and keep_gone < 1:
            raise ValueError(f"keep_gone: must be at least 1, not {keep_gone}")
        self.panel = panel
        self.geo = geo = geometry or Geometry()
        # what each sensor covers, once (sensing runs on every step a truck moves)
        self._signal_zones = (
            ("approach_loop", geo.approach_loop),
            ("entry_arm_loop", geo.entry_arm_loop),
            ("exit_arm_loop", geo.exit_arm_loop),
        )
        self._photocells = (("entry", geo.entry_photocell), ("exit", geo.exit_photocell))
        self.phys = physics or Physics()
        self.rng = random.Random(seed)  # noqa: S311 - simulation dice
        # plates have dice of their own: giving trucks plates changes no other draw
        self.plate_rng = random.Random(f"plates-{seed}")  # noqa: S311 - simulation dice
        self.committed = committed
        self.trucks: list[Truck] = []
        # the trucks that left, newest last; with `keep_gone`, only about that many of
        # each (a simulated day or an emulator left running would keep every truck)
        self.departed: list[Truck] = []
        self.turned_away: list[Truck] = []
        self.departed_count = 0
        self.turned_away_count = 0
        self.keep_gone = keep_gone
        self.oracle = Oracle()
        self.now = 0.0
        self._ids = 0
        self._under: dict[tuple[str, int], bool] = {}  # under an arm: it was closing on arrival
        self._sensed: tuple[tuple[int, float], ...] | None = None  # the layout last sensed
        self._green_at: dict[str, float] = {}  # side -> when its light was last seen green
        # the loop detectors' outputs lag what covers them by loop_response_s (FIFO: each
        # change is due a fixed delay after the one before it)
        self._loop_sensed: dict[str, bool] = {}
        self._loop_due: deque[tuple[float, str, bool]] = deque()

    # ------------------------------------------------------------------ trucks
    def make_truck(self, behaviour: Behaviour = Behaviour.OBEY) -> Truck:
        self._ids += 1
        lo, hi = self.phys.gross_kg
        gross = self.rng.randint(lo, hi)
        length = round(self.rng.uniform(*self.phys.length_m), 1)
        tag = bytes.fromhex("E28011") + self._ids.to_bytes(9, "big")
        declared = gross if behaviour != Behaviour.SWAPPED_TAG else gross + 8000
        truck = Truck(self._ids, tag, gross, length, behaviour, declared)
        truck.plate = truck.papers_plate = vietnamese_plate(self.plate_rng)
        if behaviour == Behaviour.SWAPPED_TAG:
            truck.papers_plate = self._other_plate(truck.plate)
        if behaviour == Behaviour.REVERSE_OFF_DECK:  # drawn only for it: other dice unchanged
            truck.reverse_after_s = round(self.rng.uniform(*REVERSE_AFTER_S), 1)
        return truck

    def _other_plate(self, plate: str) -> str:
        """Another vehicle's plate, from the plates' own dice (the world's stay as they are).
        A redraw when it is the truck's own: bounded, for dice that always say the same."""
        other = vietnamese_plate(self.plate_rng)
        for _ in range(16):
            if other != plate:
                break
            other = vietnamese_plate(self.plate_rng)
        return other

    def spawn(self, truck: Truck) -> Truck:
        last = self.trucks[-1] if self.trucks else None
        start = -30.0 if last is None else min(-30.0, last.body[0] - self.geo.queue_gap - 5)
        truck.front = start
        self.trucks.append(truck)
        return truck

    @property
    def queue_length(self) -> int:
        return sum(t.phase in (Phase.APPROACH, Phase.AT_STOP) for t in self.trucks)

    # ------------------------------------------------------------------ physics
    def advance(self, dt: float) -> None:
        if dt <= 0:
            return
        for side in SIDES:
            if self.panel.green(side):
                self._green_at[side] = self.now
        self.now += dt
        for index, truck in enumerate(self.trucks):
            ahead = self.trucks[index - 1] if index > 0 else None
            self._drive(truck, ahead, dt)
        self._retire()
        self._sense()
        self._report_loops()
        self._watch()

    def _drive(self, truck: Truck, ahead: Truck | None, dt: float) -> None:
        truck.backing = False
        if truck.phase == Phase.BACKING:
            self._back(truck, dt)
            return
        if truck.phase == Phase.REVERSING:
            truck.front -= self.phys.truck_speed_mps * dt
            if truck.front < -60:
                truck.phase = Phase.GONE
            return
        target = self._target(truck, ahead, dt)
        step = self.phys.truck_speed_mps * dt
        new_front = min(target, truck.front + step) if target > truck.front else truck.front
        new_front = self._make_room(truck, ahead, target, new_front, step)
        new_front = self._arms_block(truck, new_front)
        self._crossings(truck, truck.front, new_front)
        truck.front = new_front
        if truck.phase == Phase.ENTERING and truck.front >= self.geo.deck_stop - 1e-6:
            truck.phase, truck.wait_s = Phase.ON_DECK, 0.0
        elif truck.phase == Phase.LEAVING and truck.body[0] > self.geo.gone_after:
            truck.phase = Phase.GONE

    def _target(self, truck: Truck, ahead: Truck | None, dt: float) -> float:
        geo = self.geo
        limit = self._follow_limit(truck, ahead)
        phase = truck.phase
        if phase == Phase.APPROACH:
            if truck.front >= geo.stop_line - 0.01 and (ahead is None or ahead.front > 0):
                truck.phase, truck.wait_s = Phase.AT_STOP, 0.0
            return min(geo.stop_line, limit)
        if phase == Phase.AT_STOP:
            self._at_stop(truck, ahead, dt)
            return min(geo.stop_line, limit)
        if phase == Phase.ENTERING:
            return min(self._entering_target(truck, dt), limit)
        if phase == Phase.ON_DECK:
            self._on_deck(truck, dt)
            return truck.front
        return 1e9 if phase == Phase.LEAVING else truck.front

    def _follow_limit(self, truck: Truck, ahead: Truck | None) -> float:
        """How far the truck behind may close up. A tailgater hugs the truck ahead; an
        obedient driver keeps its gap and waits short of the approach loop until the truck
        ahead has cleared it, so the loop sees one vehicle at a time."""
        if ahead is None or ahead.phase == Phase.GONE:
            return 1e9
        if truck.behaviour == Behaviour.TAILGATE:
            return ahead.body[0] - 1.5
        limit = ahead.body[0] - self.geo.queue_gap
        if ahead.body[0] < self.geo.approach_loop[1] + 1.0:
            limit = min(limit, self.geo.approach_loop[0] - 1.0)
        return limit

    def _at_stop(self, truck: Truck, ahead: Truck | None, dt: float) -> None:
        if self.panel.sign("sign_reverse") and ahead is None:
            truck.wait_s += dt
            if truck.wait_s >= self.phys.driver_reaction_s:
                truck.phase = Phase.REVERSING  # denied: the driver backs out as the sign says
            return
        go = self.panel.green("entry") or (
            truck.behaviour == Behaviour.TAILGATE
            and ahead is not None
            and ahead.phase in (Phase.ENTERING, Phase.ON_DECK)
            and self.panel.arm_position("entry") >= 95
        )
        truck.wait_s = truck.wait_s + dt if go else 0.0
        if truck.wait_s >= self.phys.driver_reaction_s:
            truck.phase, truck.dwell_s = Phase.ENTERING, 0.0

    def _entering_target(self, truck: Truck, dt: float) -> float:
        geo = self.geo
        if truck.behaviour == Behaviour.STOP_UNDER_ARM and truck.dwell_s < STOP_UNDER_ARM_S:
            stop = geo.entry_arm + truck.length_m - 0.2  # rear just under the arm
            if truck.front >= stop - 0.01:
                truck.dwell_s += dt
            return stop
        if truck.behaviour == Behaviour.HALF_ON_DECK and not truck.repositioned:
            if self.panel.sign("sign_reposition") or self.panel.green("exit"):
                # told to move up, or waved through by an officer's release: the driver
                # moves, all the way
                truck.repositioned = True
            return geo.beam_in + truck.length_m - 0.4  # past the arm, rear still on beam_in
        return geo.deck_stop

    def _on_deck(self, truck: Truck, dt: float) -> None:
        if truck.behaviour == Behaviour.REVERSE_OFF_DECK and not truck.turned_back:
            truck.dwell_s += dt  # it stands, then backs off, whatever the lights say
            if truck.dwell_s >= truck.reverse_after_s:
                truck.phase, truck.turned_back = Phase.BACKING, True
            return
        go = self.panel.green("exit")
        truck.wait_s = truck.wait_s + dt if go else 0.0
        if truck.wait_s >= self.phys.driver_reaction_s:
            truck.phase = Phase.LEAVING

    def _back(self, truck: Truck, dt: float) -> None:
        """A driver reversing off the deck: back towards the entry, stopping short of an
        entry arm that is not up and of the truck behind (which backs up to make room). Out
        of the lane once clear of the approach and the antenna. Held up with most of the
        truck still on the deck, it gives in once the exit shows green and drives forward."""
        geo = self.geo
        rear = truck.body[0]
        new_rear = rear - self.phys.truck_speed_mps * dt
        stop = geo.entry_arm + 0.4  # on the arm loop, short of the arm and its photocell
        if rear >= stop - 1e-6 and self.panel.arm_position("entry") < 95:
            new_rear = max(new_rear, stop)
        index = self.trucks.index(truck)
        behind = self.trucks[index + 1] if index + 1 < len(self.trucks) else None
        if behind is not None:
            new_rear = max(new_rear, behind.front + 1.0)
        new_rear = min(new_rear, rear)
        truck.backing = new_rear < rear - 1e-6
        if not truck.backing and self.panel.green("exit") and truck.front > geo.beam_in + 2.0:
            truck.phase, truck.wait_s = Phase.ENTERING, 0.0  # back onto the deck, then out
            return
        truck.front = new_rear + truck.length_m
        if truck.front < -geo.rfid_range - 2.0:
            truck.phase = Phase.GONE  # turned off the approach road, the wrong way out

    def _make_room(
        self, truck: Truck, ahead: Truck | None, target: float, new_front: float, step: float
    ) -> float:
        """A queued truck backs up, keeping its gap, from a truck reversing towards it."""
        queued = truck.phase in (Phase.APPROACH, Phase.AT_STOP)
        reversing = ahead is not None and (ahead.phase == Phase.BACKING or ahead.backing)
        if not queued or not reversing or target >= truck.front:
            return new_front
        truck.backing = True
        return max(target, truck.front - step)

    def _arms_block(self, truck: Truck, new_front: float) -> float:
        """A truck does not drive through an arm that is not up (it stops short of it)."""
        for side, arm in (("entry", self.geo.entry_arm), ("exit", self.geo.exit_arm)):
            crossing = truck.front <= arm - 0.3 < new_front
            if crossing and self.panel.arm_position(side) < 95:
                return min(new_front, arm - 0.3)
        return new_front

    def _crossings(self, truck: Truck, old: float, new: float) -> None:
        geo, now = self.geo, self.now
        # permission is judged where the driver commits: at the arm loop's near edge (the
        # light turns red as the truck reaches the loop, before its front passes the arm)
        if old < geo.entry_arm_loop[0] <= new:
            truck.entered_on_green = self._permitted("entry")
            if not truck.entered_on_green:
                self.oracle.record(now, "entered_on_red", truck.ident, "driver")
        if old < geo.exit_arm_loop[0] <= new:
            truck.left_on_green = self._permitted("exit")
            if not truck.left_on_green:
                self.oracle.record(now, "left_on_red", truck.ident, "driver")
            elif not self.committed(truck.tag_hex):
                self.oracle.record(now, "released_uncommitted", truck.ident, "controller")

    def _permitted(self, side: str) -> bool:
        """Green now, or green less than a reaction time ago: a driver already rolling
        when the light turns red (a data loss turns every light red at once) cannot stop
        at the line, and crossing then is not running a red light."""
        since = self.now - self._green_at.get(side, -1e9)
        return self.panel.green(side) or since < self.phys.driver_reaction_s

    def _retire(self) -> None:
        gone = [t for t in self.trucks if t.phase == Phase.GONE]
        if gone:
            for truck in gone:
                if truck.left_on_green is not None:
                    self.departed_count += 1
                    self._keep(self.departed, truck)
                else:
                    self.turned_away_count += 1
                    self._keep(self.turned_away, truck)
            self.trucks = [t for t in self.trucks if t.phase != Phase.GONE]

    def _keep(self, trucks: list[Truck], truck: Truck) -> None:
        trucks.append(truck)
        if self.keep_gone is not None and len(trucks) >= 2 * self.keep_gone:
            del trucks[: -self.keep_gone]  # trimmed in halves: amortised O(1) a truck

    # ------------------------------------------------------------------ sensors
    def _sense(self) -> None:
        # sensors see only where the trucks are: a queue standing still changes nothing
        layout = tuple((t.ident, t.front) for t in self.trucks)
        if layout == self._sensed:
            return
        self._sensed = layout
        geo, panel = self.geo, self.panel
        # overlaps() and covers() of emulators/geometry.py, inline: this is the world's
        # hottest loop
        bodies = [(t.front - t.length_m, t.front) for t in self.trucks]
        for name, (lo, hi) in self._signal_zones:
            self._loop(name, any(rear <= hi and lo <= front for rear, front in bodies))
        beam_in, beam_out = geo.beam_in, geo.beam_out
        panel.set_signal("beam_in", any(rear < beam_in < front for rear, front in bodies))
        panel.set_signal("beam_out", any(rear < beam_out < front for rear, front in bodies))
        for side, (lo, hi) in self._photocells:
            panel.set_photocell(side, any(rear <= hi and lo <= front for rear, front in bodies))
        deck = (beam_in, beam_out)
        panel.set_load(sum(t.gross_kg * fraction_inside(t.body, deck) for t in self.trucks))
        panel.set_tags(
            {
                t.tag: -t.front
                for t in self.trucks
                if -geo.rfid_range <= t.front <= 0 and t.behaviour != Behaviour.DEAD_TAG
            }
        )

    def _loop(self, name: str, covered: bool) -> None:
        delay = self.phys.loop_response_s
        if delay <= 0:
            self.panel.set_signal(name, covered)
        elif self._loop_sensed.get(name) != covered:
            self._loop_sensed[name] = covered
            self._loop_due.append((self.now + delay, name, covered))

    def _report_loops(self) -> None:
        due = self._loop_due
        while due and due[0][0] <= self.now:
            _, name, covered = due.popleft()
            self.panel.set_signal(name, covered)

    def _watch(self) -> None:
        """The oracle's per-tick checks of what the controller made the devices do."""
        panel, now = self.panel, self.now
        for side in SIDES:
            if panel.green(side) and not panel.arm_fully_open(side):
                self.oracle.record(now, f"{side}_green_arm_not_open", 0, "controller")
            else:
                self.oracle.clear(f"{side}_green_arm_not_open", 0)
        under = self._under
        for side, (lo, hi) in self._photocells:
            closing = panel.arm_closing(side)
            for truck in self.trucks:
                if not (truck.front - truck.length_m <= hi and lo <= truck.front):  # overlaps
                    if under:
                        under.pop((side, truck.ident), None)
                    continue
                arrived_closing = under.setdefault((side, truck.ident), closing)
                if closing:
                    blame = self._blame(truck, arrived_closing)
                    self.oracle.record(now, f"{side}_arm_onto_truck", truck.ident, blame)
        admitted = [t for t in self.trucks if t.entered_on_green and self._on_deck_now(t)]
        if len(admitted) >= 2:
            self.oracle.record(now, "two_admitted_on_deck", admitted[1].ident, "controller")
        for truck in self.trucks:
            self._watch_driver(truck)

    def _on_deck_now(self, truck: Truck) -> bool:
        return overlaps(truck.body, (self.geo.beam_in, self.geo.beam_out))

    def _blame(self, truck: Truck, arrived_closing: bool) -> str:
        """A misbehaving driver who moves under an arm already closing causes the incident;
        an arm that starts closing onto a truck already under it is the controller's doing,
        whoever drives it (S1)."""
        misbehaving = truck.behaviour not in OBEDIENT
        return "driver" if misbehaving and arrived_closing else "controller"

    def _watch_driver(self, truck: Truck) -> None:
        if truck.behaviour == Behaviour.STOP_UNDER_ARM and truck.dwell_s > 0:
            self.oracle.record(self.now, "stopped_under_arm", truck.ident, "driver")
        half = truck.behaviour == Behaviour.HALF_ON_DECK and truck.phase == Phase.ENTERING
        if half and covers(truck.body, self.geo.beam_in) and truck.front > self.geo.beam_in + 5:
            self.oracle.record(self.now, "half_on_deck", truck.ident, "driver")
        if truck.phase == Phase.BACKING and overlaps(truck.body, self.geo.entry_arm_loop):
            # off the deck over beam_in and onto the entry arm loop: leaving without
            # permission, the wrong way
            self.oracle.record(self.now, "reversed_off_deck", truck.ident, "driver")
