"""The emulated lane's cameras: built from the lane's `camera:` section (the listener's
URL and the secrets, or the overrides `gatectl emulate` takes), reading the plates of the
world's trucks and posting them to a real camera listener on a free 127.0.0.1 port."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from controller.cli.emulate import CameraTargets, EmulateError
from controller.config.models import GatewayConfig, LaneConfig
from devices.camera.driver import CameraDriver
from devices.camera.listener import CameraAuth, CameraListener, ListenerSettings
from devices.transport.base import MemoryHub
from emulators.camera.snapshot import render_plate
from emulators.lane import CameraSpec, EmulatedLane
from simulation.emulation import camera_specs, memory_lane, spec_from_config
from tests.controller.test_config_walk import base_config

SECRET = b"entry-secret-0123456789"


def lane_with_camera(tmp: Path, listen: str = "127.0.0.1:18080") -> LaneConfig:
    (tmp / "entry.secret").write_text(SECRET.decode() + "\n")
    tree = base_config(tmp)
    tree["lanes"][0]["camera"] = {
        "listen": listen,
        "path": "/anpr",
        "entry": {"id": "L01-entry", "secret_file": str(tmp / "entry.secret")},
        "exit": {"id": "L01-exit", "allow_from": ["127.0.0.1"]},
    }
    return GatewayConfig.model_validate(tree).lanes[0]


def test_the_cameras_post_where_the_config_listens_with_their_secrets(tmp_path: Path) -> None:
    assert camera_specs(lane_with_camera(tmp_path)) == (
        CameraSpec("entry", "L01-entry", "http://127.0.0.1:18080/anpr", SECRET),
        CameraSpec("exit", "L01-exit", "http://127.0.0.1:18080/anpr", None),
    )


def test_the_url_and_a_secret_can_be_overridden(tmp_path: Path) -> None:
    (tmp_path / "other.secret").write_text("other-secret-0123456789\n")
    targets = CameraTargets(
        {"L01": "http://127.0.0.1:9999/events"}, {"L01-exit": tmp_path / "other.secret"}
    )
    entry, exit_ = targets.specs(lane_with_camera(tmp_path))
    assert (entry.url, entry.secret) == ("http://127.0.0.1:9999/events", SECRET)
    assert (exit_.url, exit_.secret) == ("http://127.0.0.1:9999/events", b"other-secret-0123456789")


def test_a_listener_on_any_free_port_needs_its_url_given(tmp_path: Path) -> None:
    lane = lane_with_camera(tmp_path, listen="127.0.0.1:0")
    with pytest.raises(EmulateError, match=r"lane L01: camera\.listen has port 0.*--camera-url"):
        CameraTargets().specs(lane)


def test_a_lane_without_a_camera_has_none(tmp_path: Path) -> None:
    lane = GatewayConfig.model_validate(base_config(tmp_path)).lanes[0]
    assert camera_specs(lane) == ()
    assert EmulatedLane(spec_from_config(lane)).cameras == {}


async def test_a_served_lane_s_camera_posts_its_trucks_plates() -> None:
    settings = ListenerSettings("127.0.0.1", 0, (CameraAuth("L01-entry", secret=SECRET),))
    async with CameraListener(settings) as listener:
        url = f"http://127.0.0.1:{listener.port}/events"
        spec = dataclasses.replace(
            spec_from_config(memory_lane("L01", time_scale=20.0)),
            cameras=(CameraSpec("entry", "L01-entry", url, SECRET),),
        )
        lane = EmulatedLane(spec, seed=3)
        camera = lane.cameras["L01-entry"]
        camera.miss_rate = camera.misread_rate = 0.0
        async with lane.serve(hub=MemoryHub()):
            truck = lane.world.spawn(lane.world.make_truck())
            read = await CameraDriver(listener, "L01-entry").next_read(10.0)
    assert (read.camera, read.plate, read.country) == ("L01-entry", truck.plate, "VN")
    assert read.snapshot_jpeg == render_plate(truck.plate)
    assert listener.rejected == {}
