"""The camera on a hand-driven world: one read per truck as its front enters the field,
miss and misread rates within statistical bounds over many seeded trucks, confidences,
and a snapshot that is a real JPEG of the plate read."""

from __future__ import annotations

import io
import random
import re
from typing import cast

import pytest
from PIL import Image

from emulators.camera.model import (
    CONFUSIONS,
    ENTRY_ZONE,
    CameraFeed,
    CameraModel,
    Confidence,
    PlateSighting,
    misread,
    zone_for,
)
from emulators.camera.snapshot import render_plate
from emulators.geometry import Geometry
from emulators.world import Behaviour, Phase, World, vietnamese_plate
from tests.emulators.test_world import HandPanel

PLATE_SHAPE = r"[1-9][0-9][A-Z][0-9]{5}"


def lane(camera: CameraModel, seed: int = 1) -> tuple[World, CameraFeed, HandPanel]:
    panel = HandPanel()
    world = World(panel, seed=seed)
    return world, CameraFeed(camera, world), panel


def step(world: World, feed: CameraFeed, seconds: float, dt: float = 0.05) -> list[PlateSighting]:
    reads = []
    for _ in range(round(seconds / dt)):
        world.advance(dt)
        feed.advance(dt)
        reads += feed.camera.take()
    return reads


def test_trucks_get_vietnamese_plates_from_dice_of_their_own(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def trucks(seed: int) -> list[tuple[int, float, str]]:
        world = World(HandPanel(), seed=seed)
        made = [world.make_truck(Behaviour.REVERSE_OFF_DECK) for _ in range(30)]
        return [(t.gross_kg, t.length_m + t.reverse_after_s, t.plate) for t in made]

    with_plates = trucks(7)
    assert all(re.fullmatch(PLATE_SHAPE, plate) for *_, plate in with_plates)
    assert len({plate for *_, plate in with_plates}) == 30
    assert trucks(7) == with_plates  # seeded
    # the world's own dice draw as if there were no plates: a plate drawn from them
    # would shift every truck after the first
    monkeypatch.setattr("emulators.world.vietnamese_plate", lambda _rng: "")
    assert [t[:2] for t in trucks(7)] == [t[:2] for t in with_plates]


def test_a_waiting_truck_is_read_once_as_its_front_enters_the_field() -> None:
    camera = CameraModel(miss_rate=0, misread_rate=0, latency_s=0.2, seed=2)
    world, feed, panel = lane(camera)
    truck = world.spawn(world.make_truck())  # front at -30 m, driving at 10 km/h
    reads = step(world, feed, 7.0)  # front reaches -10.6 m: not yet in the field
    assert reads == []
    reads = step(world, feed, 1.5)  # front crosses -8 m (after 7.92 s)
    assert [(r.truck, r.plate) for r in reads] == [(truck.ident, truck.plate)]
    assert 7.9 <= reads[0].at <= 7.92 + 0.2 + 0.05
    assert step(world, feed, 30) == []  # standing at the stop line in the field: no more
    panel.arms["entry"], panel.lights["entry"] = 100, True
    assert step(world, feed, 20) == []
    assert camera.missed == 0


def test_every_truck_of_a_queue_is_read_exactly_once() -> None:
    camera = CameraModel(miss_rate=0, misread_rate=0, seed=3)
    world, feed, panel = lane(camera, seed=3)
    trucks = [world.spawn(world.make_truck()) for _ in range(4)]
    panel.arms["entry"], panel.arms["exit"] = 100, 100
    panel.lights["entry"] = panel.lights["exit"] = True
    reads = step(world, feed, 120)
    assert len(world.trucks) == 0  # all drove through
    assert sorted(r.truck for r in reads) == [t.ident for t in trucks]
    assert [r.plate for r in sorted(reads, key=lambda r: r.truck)] == [t.plate for t in trucks]


def test_the_exit_camera_reads_the_truck_on_the_deck_before_its_release() -> None:
    world = World(HandPanel(), seed=4)
    camera = CameraModel(zone=zone_for("exit", world.geo), miss_rate=0, misread_rate=0)
    feed = CameraFeed(camera, world)
    panel = world.panel
    assert isinstance(panel, HandPanel)
    truck = world.spawn(world.make_truck())
    panel.arms["entry"], panel.lights["entry"] = 100, True
    assert step(world, feed, 12) == []  # approach and entry: not in the exit camera's view
    reads = step(world, feed, 20)
    assert truck.phase == Phase.ON_DECK  # the exit stays red: still on the deck
    assert [r.plate for r in reads] == [truck.plate]


def test_the_entry_zone_follows_the_geometry() -> None:
    assert zone_for("entry", Geometry()) == ENTRY_ZONE
    with pytest.raises(ValueError, match="entry or exit"):
        zone_for("side", Geometry())


class Plate:
    def __init__(self, ident: int, plate: str, front: float) -> None:
        self.ident, self.plate, self.front = ident, plate, front


def sight_many(camera: CameraModel, count: int, seed: int = 0) -> list[PlateSighting]:
    rng = random.Random(seed)
    reads = []
    for ident in range(count):
        camera.sight([Plate(ident, vietnamese_plate(rng), -5.0)])
        camera.advance(camera.latency_s + 0.01)
        reads += camera.take()
    return reads


@pytest.mark.parametrize(("miss", "misread_rate"), [(0.02, 0.03), (0.1, 0.2)])
def test_miss_and_misread_rates_hold_over_many_trucks(miss: float, misread_rate: float) -> None:
    count = 4000
    camera = CameraModel(miss_rate=miss, misread_rate=misread_rate, seed=11)
    reads = sight_many(camera, count)
    # within 4 standard deviations of the binomial counts
    assert abs(camera.missed - miss * count) <= 4 * (count * miss * (1 - miss)) ** 0.5
    assert len(reads) + camera.missed == count
    wrong = sum(r.misread for r in reads)
    n, p = len(reads), misread_rate
    assert abs(wrong - p * n) <= 4 * (n * p * (1 - p)) ** 0.5
    for read in reads:
        if read.misread:  # one look-alike character swapped, nothing else
            diffs = [(a, b) for a, b in zip(read.true_plate, read.plate, strict=True) if a != b]
            assert len(diffs) == 1
            assert CONFUSIONS[diffs[0][0]] == diffs[0][1]


def test_confidences_follow_their_distributions() -> None:
    camera = CameraModel(
        miss_rate=0,
        misread_rate=0.3,
        confidence=Confidence(0.9, 50),
        misread_confidence=Confidence(0.6, 20),
        seed=5,
    )
    reads = sight_many(camera, 3000)
    right = [r.confidence for r in reads if not r.misread]
    wrong = [r.confidence for r in reads if r.misread]
    assert all(0 <= c <= 1 for c in right + wrong)
    assert abs(sum(right) / len(right) - 0.9) < 0.01
    assert abs(sum(wrong) / len(wrong) - 0.6) < 0.02


def test_the_same_seed_reads_the_same_way() -> None:
    def reads(seed: int) -> list[PlateSighting]:
        return sight_many(CameraModel(miss_rate=0.1, misread_rate=0.2, seed=seed), 200)

    assert reads(4) == reads(4)
    assert reads(4) != reads(5)


def test_misread_swaps_one_look_alike() -> None:
    rng = random.Random(0)
    assert misread("29C12345", rng) != "29C12345"
    assert misread("XXXX", rng) == "XXXX"  # nothing to confuse


def test_the_snapshot_is_a_small_real_jpeg() -> None:
    jpeg = render_plate("29C12345")
    assert jpeg[:3] == b"\xff\xd8\xff"
    assert jpeg[-2:] == b"\xff\xd9"
    assert len(jpeg) < 8000
    image = Image.open(io.BytesIO(jpeg))
    assert (image.format, image.size) == ("JPEG", (160, 60))
    image.load()
    # dark text on a light plate: the middle holds ink, a blank plate would not
    middle = image.crop((20, 15, 140, 45))
    darkest, lightest = cast("tuple[int, int]", middle.getextrema())  # one band: (min, max)
    assert darkest < 80 < lightest
    assert render_plate("29C12345") != render_plate("29C12346")


def test_reads_nobody_takes_are_bounded_and_counted() -> None:
    camera = CameraModel(miss_rate=0, misread_rate=0, latency_s=0, seed=1)
    camera.sight([Plate(ident, "29C12345", -5.0) for ident in range(300)])
    camera.advance(0.01)
    assert len(camera.take()) == 256
    assert camera.overflowed == 44


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match=r"rates in 0\.\.1"):
        CameraModel(miss_rate=1.5)
    with pytest.raises(ValueError, match="zone"):
        CameraModel(zone=(-1.0, -8.0))
    with pytest.raises(ValueError, match="confidence mean"):
        CameraModel(confidence=Confidence(1.0, 10))
