"""The lane's optional `camera:` section: validated naming the field, secrets from files
(never inline), relative paths resolved, and the listener built from it."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from controller.config.camera import listener_settings
from controller.config.load import load_config
from controller.errors import ConfigError
from devices.camera.listener import CameraAuth, CameraListener
from tests.controller.test_config_walk import base_config

SECRET = "entry-secret-0123456789"  # noqa: S105 - a test secret


def with_camera(tmp: Path, **changes: Any) -> dict[str, Any]:
    (tmp / "entry.secret").write_text(SECRET + "\n")
    tree = base_config(tmp)
    camera: dict[str, Any] = {
        "listen": "127.0.0.1:0",
        "entry": {"id": "L01-entry", "secret_file": "entry.secret"},
        "exit": {"id": "L01-exit", "allow_from": ["10.0.1.31"]},
        "max_body_kb": 64,
    }
    camera.update(changes)
    tree["lanes"][0]["camera"] = camera
    return tree


def load(tmp: Path, tree: dict[str, Any]) -> Any:
    path = tmp / "gatebridge.yaml"
    path.write_text(yaml.safe_dump(tree))
    return load_config(path)


def test_a_camera_section_becomes_the_listener_settings(tmp_path: Path) -> None:
    config = load(tmp_path, with_camera(tmp_path))
    camera = config.lanes[0].camera
    assert camera.entry.secret_file == tmp_path / "entry.secret"  # relative to the config
    settings = listener_settings(camera, "lanes[0].camera")
    assert (settings.host, settings.port, settings.path) == ("127.0.0.1", 0, "/events")
    assert settings.max_body_bytes == 64 * 1024
    assert settings.cameras == (
        CameraAuth("L01-entry", secret=SECRET.encode()),
        CameraAuth("L01-exit", allow_from=frozenset({"10.0.1.31"})),
    )


async def test_the_configured_listener_listens(tmp_path: Path) -> None:
    camera = load(tmp_path, with_camera(tmp_path)).lanes[0].camera
    async with CameraListener(listener_settings(camera)) as listener:
        assert listener.port > 0
        assert set(listener.queues) == {"L01-entry", "L01-exit"}


def test_a_lane_without_a_camera_has_none(tmp_path: Path) -> None:
    assert load(tmp_path, base_config(tmp_path)).lanes[0].camera is None


BAD: list[tuple[dict[str, Any], str]] = [
    ({"listen": "10.0.1.5"}, "lanes[0].camera.listen: '10.0.1.5': HOST:PORT with an IP"),
    ({"listen": "[::]:8080"}, "lanes[0].camera.listen: '[::]:8080': bind to the camera network"),
    ({"listen": "camera-net:8080"}, "lanes[0].camera.listen: 'camera-net:8080'"),
    ({"listen": "127.0.0.1:99999"}, "the port must be a number in 0..65535"),
    ({"path": "events"}, "lanes[0].camera.path: String should match pattern"),
    ({"max_body_kb": 1}, "lanes[0].camera.max_body_kb: Input should be greater than or equal"),
    ({"entry": {"id": "L01-entry"}}, "lanes[0].camera.entry: give secret_file"),
    (
        {"entry": {"id": "L01-entry", "secret": SECRET}},
        "lanes[0].camera.entry.secret: unknown field",
    ),
    (
        {"entry": {"id": "L01-entry", "allow_from": ["10.0.1.300"]}},
        "lanes[0].camera.entry.allow_from: '10.0.1.300' is not an IP address",
    ),
    ({"exit": {"id": "L01-entry", "allow_from": ["10.0.1.31"]}}, "one camera id 'L01-entry'"),
    ({"speed": 1}, "lanes[0].camera.speed: unknown field"),
]


@pytest.mark.parametrize(("changes", "message"), BAD)
def test_a_bad_camera_section_names_the_field(
    tmp_path: Path, changes: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, with_camera(tmp_path, **changes))
    assert message in str(caught.value)


def test_a_camera_id_twice_on_the_gateway_is_refused(tmp_path: Path) -> None:
    tree = with_camera(tmp_path)
    lane = copy.deepcopy(tree["lanes"][0])
    lane["id"] = "L02"
    lane["io"]["url"] = "modbus-tcp://127.0.0.1:15021"
    lane["scale"]["url"], lane["rfid"]["url"] = "serial:///dev/ttyS7", "serial:///dev/ttyS8"
    lane["entry_barrier"]["url"] = lane["exit_barrier"]["url"] = "modbus-rtu:///dev/ttyUSB7"
    tree["lanes"].append(lane)
    with pytest.raises(ConfigError, match="camera id 'L01-entry' appears twice"):
        load(tmp_path, tree)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (None, "cannot read"),
        ("short\n", "16..256 printable"),
        ("has a space in it!!\n", "no spaces"),
    ],
)
def test_an_unusable_secret_file_names_its_field(
    tmp_path: Path, content: str | None, reason: str
) -> None:
    camera = load(tmp_path, with_camera(tmp_path)).lanes[0].camera
    secret = tmp_path / "entry.secret"
    if content is None:
        secret.unlink()
    else:
        secret.write_text(content)
    with pytest.raises(ConfigError, match=reason) as caught:
        listener_settings(camera, "lanes[0].camera")
    assert caught.value.path == "lanes[0].camera.entry.secret_file"
