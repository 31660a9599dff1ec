"""The papers of the world's trucks (issue 15): the manifest's plate for a tag is the plate
of the truck the tag belongs to, so a truck carrying another's tag (SWAPPED_TAG) has
papers naming another plate, drawn from the plates' own dice; a truck with a dead tag is
found by its plate. The world-backed manifest (simulation/emulation.py) answers both."""

from __future__ import annotations

import re

from controller.core.types import Decision
from emulators.world import Behaviour, World
from simulation.emulation import world_manifest
from tests.emulators.test_world import HandPanel

PLATE_SHAPE = r"[1-9][0-9][A-Z][0-9]{5}"


def test_only_a_swapped_tag_s_papers_name_another_plate() -> None:
    world = World(HandPanel(), seed=3)
    behaviours = [Behaviour.OBEY, Behaviour.SWAPPED_TAG, Behaviour.DEAD_TAG] * 10
    trucks = [world.make_truck(b) for b in behaviours]
    for truck in trucks:
        assert re.fullmatch(PLATE_SHAPE, truck.papers_plate), truck
        swapped = truck.behaviour == Behaviour.SWAPPED_TAG
        assert (truck.papers_plate != truck.plate) == swapped, truck


def test_the_papers_leave_the_world_s_own_dice_alone() -> None:
    def trucks(behaviour: Behaviour) -> list[tuple[int, float]]:
        world = World(HandPanel(), seed=7)
        return [(t.gross_kg, t.length_m) for t in (world.make_truck(behaviour) for _ in range(30))]

    assert trucks(Behaviour.SWAPPED_TAG) == trucks(Behaviour.OBEY)


def test_the_world_s_manifest_names_the_papers_plate_and_finds_a_truck_by_it() -> None:
    world = World(HandPanel(), seed=5)
    obey, swapped, dead = (
        world.spawn(world.make_truck(b))
        for b in (Behaviour.OBEY, Behaviour.SWAPPED_TAG, Behaviour.DEAD_TAG)
    )
    lookup = world_manifest(world)
    by_tag = lookup(obey.tag_hex.lower(), None)
    assert by_tag is not None
    assert (by_tag.decision, by_tag.plate, by_tag.declared_gross_kg) == (
        Decision.GRANT,
        obey.plate,
        obey.gross_kg,
    )
    papers = lookup(swapped.tag_hex, swapped.plate)  # by its tag: the plate read is no key
    assert papers is not None
    assert (papers.plate, papers.declared_gross_kg) == (
        swapped.papers_plate,
        swapped.gross_kg + 8000,
    )
    by_plate = lookup(None, dead.plate)  # the dead tag's truck, by the plate the camera read
    assert by_plate is not None
    assert (by_plate.plate, by_plate.declared_gross_kg) == (dead.plate, dead.gross_kg)
    assert lookup(None, swapped.plate) is None  # no papers name the swapped truck's own plate
    assert lookup(None, "99Z99999") is None
    assert lookup(None, None) is None
