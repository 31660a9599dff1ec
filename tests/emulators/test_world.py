"""The world's physics and its oracle, against a panel the test drives by hand."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import pytest

from emulators.world import Behaviour, Phase, Truck, World


@dataclass
class HandPanel:
    """Lights and arms set by the test; sensors recorded."""

    lights: dict[str, bool] = field(default_factory=lambda: {"entry": False, "exit": False})
    arms: dict[str, float] = field(default_factory=lambda: {"entry": 0.0, "exit": 0.0})
    closing: dict[str, bool] = field(default_factory=lambda: {"entry": False, "exit": False})
    signals: dict[str, bool] = field(default_factory=dict)
    photocells: dict[str, bool] = field(default_factory=dict)
    load: float = 0.0
    tags: dict[bytes, float] = field(default_factory=dict)
    signs: dict[str, bool] = field(default_factory=dict)

    def set_signal(self, name: str, active: bool) -> None:
        self.signals[name] = active

    def green(self, side: str) -> bool:
        return self.lights[side]

    def sign(self, name: str) -> bool:
        return self.signs.get(name, False)

    def arm_position(self, side: str) -> float:
        return self.arms[side]

    def arm_closing(self, side: str) -> bool:
        return self.closing[side]

    def arm_fully_open(self, side: str) -> bool:
        return self.arms[side] >= 100

    def set_photocell(self, side: str, active: bool) -> None:
        self.photocells[side] = active

    def set_load(self, kg: float) -> None:
        self.load = kg

    def set_tags(self, tags: dict[bytes, float]) -> None:
        self.tags = dict(tags)


def phase(truck: Truck) -> Phase:
    """Read the phase afresh (the world moves it between asserts)."""
    return truck.phase


def run(world: World, seconds: float, dt: float = 0.05) -> None:
    for _ in range(round(seconds / dt)):
        world.advance(dt)


def test_an_obedient_truck_waits_at_red_and_crosses_the_lane_on_green() -> None:
    panel = HandPanel()
    world = World(panel, seed=1)
    truck = world.spawn(world.make_truck())
    run(world, 20)
    assert phase(truck) == Phase.AT_STOP
    assert panel.signals["approach_loop"]
    assert truck.tag in panel.tags  # within the RF field at the stop line
    assert panel.load == 0
    panel.arms["entry"], panel.lights["entry"] = 100, True
    run(world, 15)
    assert phase(truck) == Phase.ON_DECK
    assert panel.load == truck.gross_kg
    assert not panel.signals["beam_in"]
    assert not panel.signals["beam_out"]
    assert truck.entered_on_green
    panel.arms["exit"], panel.lights["exit"] = 100, True
    run(world, 20)
    assert world.departed == [truck]
    assert panel.load == 0
    assert world.oracle.incidents == []


def test_a_dead_tag_is_never_read_but_its_truck_drives_like_an_obedient_one() -> None:
    # two worlds, the same dice and the same lights: the trucks move alike, step by step
    worlds = {b: World(HandPanel(), seed=5) for b in (Behaviour.OBEY, Behaviour.DEAD_TAG)}
    trucks = {b: w.spawn(w.make_truck(b)) for b, w in worlds.items()}
    seen: dict[Behaviour, bool] = dict.fromkeys(worlds, False)
    for step in range(round(80 / 0.05)):
        for behaviour, world in worlds.items():
            panel = world.panel
            assert isinstance(panel, HandPanel)
            if step == round(20 / 0.05):
                panel.arms["entry"], panel.lights["entry"] = 100, True
            if step == round(40 / 0.05):
                panel.arms["exit"], panel.lights["exit"] = 100, True
            world.advance(0.05)
            seen[behaviour] |= trucks[behaviour].tag in panel.tags
        obedient, dead = trucks[Behaviour.OBEY], trucks[Behaviour.DEAD_TAG]
        assert (dead.front, dead.phase) == (obedient.front, obedient.phase), step
    assert seen == {Behaviour.OBEY: True, Behaviour.DEAD_TAG: False}
    dead_world = worlds[Behaviour.DEAD_TAG]
    assert dead_world.departed == [trucks[Behaviour.DEAD_TAG]]
    assert dead_world.oracle.incidents == []


def test_a_truck_does_not_drive_through_a_closed_arm() -> None:
    panel = HandPanel()
    world = World(panel, seed=2)
    truck = world.spawn(world.make_truck(Behaviour.TAILGATE))
    panel.lights["entry"] = True  # green, but the arm is down: the driver stops short
    run(world, 30)
    assert truck.front < 0
    assert world.oracle.by("controller")[0].kind == "entry_green_arm_not_open"


def test_a_tailgater_is_a_driver_incident() -> None:
    panel = HandPanel()
    world = World(panel, seed=3)
    first = world.spawn(world.make_truck())
    second = world.spawn(world.make_truck(Behaviour.TAILGATE))
    run(world, 25)
    panel.arms["entry"], panel.lights["entry"] = 100, True
    run(world, 3)
    panel.lights["entry"] = False  # red once the first truck reached the arm
    run(world, 12)
    assert first.entered_on_green
    assert second.entered_on_green is False
    kinds = {(i.kind, i.caused_by) for i in world.oracle.incidents}
    assert ("entered_on_red", "driver") in kinds
    assert not world.oracle.by("controller")


def test_releasing_an_uncommitted_truck_is_a_controller_incident() -> None:
    panel = HandPanel()
    world = World(panel, seed=4, committed=lambda _tag: False)
    truck = world.spawn(world.make_truck())
    panel.arms.update(entry=100, exit=100)
    panel.lights.update(entry=True, exit=True)
    run(world, 60)
    assert truck in world.departed
    assert [i.kind for i in world.oracle.by("controller")] == ["released_uncommitted"]


def test_sensors_follow_the_geometry_while_entering() -> None:
    panel = HandPanel()
    world = World(panel, seed=5)
    truck = world.spawn(world.make_truck(Behaviour.HALF_ON_DECK))
    run(world, 25)
    panel.arms["entry"], panel.lights["entry"] = 100, True
    run(world, 20)
    assert phase(truck) == Phase.ENTERING  # stopped with its rear over beam_in
    assert panel.signals["beam_in"]
    assert 0 < panel.load < truck.gross_kg
    panel.signs["sign_reposition"] = True
    run(world, 10)
    assert phase(truck) == Phase.ON_DECK
    assert ("half_on_deck", "driver") in {(i.kind, i.caused_by) for i in world.oracle.incidents}


def signal(panel: HandPanel, name: str) -> bool:
    """Read a sensor afresh (as `phase`)."""
    return panel.signals[name]


def until(world: World, done: Callable[[], bool], limit_s: float, dt: float = 0.05) -> bool:
    for _ in range(round(limit_s / dt)):
        if done():
            return True
        world.advance(dt)
    return done()


def admitted(world: World, panel: HandPanel, truck: Truck) -> None:
    """`truck`, first at the stop line, is let in: green with the arm up, red at the arm."""
    assert until(world, lambda: truck.phase == Phase.AT_STOP, 30)
    panel.arms["entry"], panel.lights["entry"] = 100, True
    assert until(world, lambda: panel.signals["entry_arm_loop"], 10)
    panel.lights["entry"] = False
    assert until(world, lambda: truck.phase == Phase.ON_DECK, 15)


def test_a_truck_reversing_off_the_deck_leaves_through_the_entry_as_the_queue_makes_room() -> None:
    panel = HandPanel()
    world = World(panel, seed=6)
    truck = world.spawn(world.make_truck(Behaviour.REVERSE_OFF_DECK))
    waiting = world.spawn(world.make_truck())
    truck.reverse_after_s = 3.0
    admitted(world, panel, truck)
    assert not signal(panel, "beam_in")
    run(world, 3.5)
    assert phase(truck) == Phase.BACKING
    assert panel.load == truck.gross_kg
    assert not world.oracle.incidents
    assert until(world, lambda: signal(panel, "entry_arm_loop"), 10)
    assert signal(panel, "beam_in")
    kinds = {(i.kind, i.caused_by) for i in world.oracle.incidents}
    assert kinds == {("reversed_off_deck", "driver")}
    assert until(world, lambda: waiting.front < world.geo.approach_loop[0], 5)  # makes room
    assert until(world, lambda: world.turned_away == [truck], 30)  # out the wrong way
    assert truck.left_on_green is None
    assert until(world, lambda: phase(waiting) == Phase.AT_STOP, 30)  # back at the stop line
    assert until(world, lambda: waiting.front >= world.geo.stop_line - 0.01, 30)
    assert panel.signals["approach_loop"]
    assert panel.load == 0
    assert not world.oracle.by("controller")


def test_a_reversing_truck_stops_short_of_a_closed_entry_arm_and_gives_in_to_green() -> None:
    panel = HandPanel()
    world = World(panel, seed=7)
    truck = world.spawn(world.make_truck(Behaviour.REVERSE_OFF_DECK))
    truck.reverse_after_s = 3.0
    admitted(world, panel, truck)
    panel.arms["entry"] = 0  # closed behind it
    run(world, 15)
    assert phase(truck) == Phase.BACKING
    assert truck.body[0] == pytest.approx(
        world.geo.entry_arm + 0.4
    )  # on the loop, short of the arm
    assert panel.signals["entry_arm_loop"]
    assert panel.signals["beam_in"]
    assert not panel.photocells["entry"]
    assert 0 < panel.load < truck.gross_kg
    assert [i.kind for i in world.oracle.by("driver")] == ["reversed_off_deck"]
    panel.arms["exit"], panel.lights["exit"] = 100, True
    assert until(world, lambda: world.departed == [truck], 30)  # forwards after all, on green
    assert truck.left_on_green
    assert not world.oracle.by("controller")


def test_an_arm_closing_onto_a_misbehaving_truck_already_under_it_is_the_controllers() -> None:
    panel = HandPanel()
    world = World(panel, seed=8)
    truck = world.spawn(world.make_truck(Behaviour.STOP_UNDER_ARM))
    run(world, 25)
    panel.arms["entry"], panel.lights["entry"] = 100, True
    run(world, 3)
    panel.lights["entry"] = False
    run(world, 6)
    assert panel.photocells["entry"]  # stopped with its rear under the arm
    panel.closing["entry"] = True
    run(world, 0.1)
    assert [(i.kind, i.caused_by) for i in world.oracle.incidents if i.truck == truck.ident] == [
        ("stopped_under_arm", "driver"),
        ("entry_arm_onto_truck", "controller"),
    ]


def test_a_misbehaving_truck_moving_under_an_arm_already_closing_is_the_drivers() -> None:
    panel = HandPanel()
    world = World(panel, seed=9)
    first = world.spawn(world.make_truck())
    second = world.spawn(world.make_truck(Behaviour.TAILGATE))
    run(world, 25)
    panel.arms["entry"], panel.lights["entry"] = 100, True
    run(world, 3)
    panel.lights["entry"], panel.closing["entry"] = False, True  # closing, not yet down
    run(world, 12)
    assert first.entered_on_green
    onto = [i for i in world.oracle.incidents if i.kind == "entry_arm_onto_truck"]
    assert onto
    assert {(i.truck, i.caused_by) for i in onto} == {
        (first.ident, "controller"),
        (second.ident, "driver"),
    }


def test_a_truck_stopped_half_on_the_deck_drives_on_when_an_officer_shows_it_green() -> None:
    panel = HandPanel()
    world = World(panel, seed=8)
    truck = world.spawn(world.make_truck(Behaviour.HALF_ON_DECK))
    assert until(world, lambda: truck.phase == Phase.AT_STOP, 30)
    panel.arms["entry"], panel.lights["entry"] = 100, True
    assert until(world, lambda: panel.signals["entry_arm_loop"], 10)
    panel.lights["entry"] = False
    run(world, 20)
    assert phase(truck) == Phase.ENTERING  # stopped with its rear on the deck's edge
    assert panel.signals["beam_in"]
    assert "half_on_deck" in [i.kind for i in world.oracle.by("driver")]
    panel.arms["exit"], panel.lights["exit"] = 100, True  # released: out through the exit
    assert until(world, lambda: world.departed == [truck], 40)
    assert truck.left_on_green


def leaving_truck(seed: int) -> tuple[World, HandPanel, Truck]:
    panel = HandPanel()
    world = World(panel, seed=seed)
    truck = world.spawn(world.make_truck())
    admitted(world, panel, truck)
    panel.arms["entry"] = 0
    panel.arms["exit"], panel.lights["exit"] = 100, True
    assert until(world, lambda: truck.phase == Phase.LEAVING, 10)
    return world, panel, truck


def test_a_light_turning_red_under_a_rolling_truck_is_not_running_it() -> None:
    world, panel, truck = leaving_truck(seed=9)
    panel.lights["exit"] = False  # red as it rolls off: the line is 0.3 s ahead
    assert until(world, lambda: world.departed == [truck], 30)
    assert truck.left_on_green
    assert world.oracle.by("driver") == []


def test_a_truck_that_had_time_to_stop_and_did_not_ran_the_red() -> None:
    world, panel, truck = leaving_truck(seed=9)
    world.phys = replace(world.phys, truck_speed_mps=0.3)  # it crawls: 3 s to the line
    line = world.geo.exit_arm_loop[0]
    assert truck.front < line - world.phys.truck_speed_mps * world.phys.driver_reaction_s
    panel.lights["exit"] = False
    assert until(world, lambda: world.departed == [truck], 600)
    assert truck.left_on_green is False
    assert [i.kind for i in world.oracle.by("driver")] == ["left_on_red"]


def test_a_world_keeping_few_gone_trucks_counts_every_one() -> None:
    panel = HandPanel()
    world = World(panel, seed=5, keep_gone=2)
    panel.arms.update(entry=100, exit=100)
    panel.lights.update(entry=True, exit=True)
    trucks = [world.spawn(world.make_truck()) for _ in range(6)]
    assert until(world, lambda: world.departed_count == 6, 600)
    assert 2 <= len(world.departed) < 4
    assert world.departed == trucks[-len(world.departed) :]  # the newest, in order
    assert world.turned_away_count == 0


def test_a_world_must_keep_at_least_one_gone_truck() -> None:
    with pytest.raises(ValueError, match="keep_gone"):
        World(HandPanel(), keep_gone=0)
