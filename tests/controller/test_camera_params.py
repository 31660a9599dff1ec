"""The lane camera's cross-check settings reach the core's LaneParams; the snapshots'
store is placed beside the journal; two lanes cannot share one camera listener."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from controller.cli.run import snapshot_store
from controller.config.lane import lane_params
from controller.config.load import load_config
from controller.config.models import GatewayConfig
from controller.core.params import CameraParams
from tests.controller.test_config_walk import base_config


def with_camera(tmp: Path, listen: str = "127.0.0.1:18080", **changes: Any) -> dict[str, Any]:
    tree = base_config(tmp)
    tree["lanes"][0]["camera"] = {
        "listen": listen,
        "entry": {"id": "L01-entry", "allow_from": ["10.0.2.31"]},
        **changes,
    }
    return tree


def second_lane(tree: dict[str, Any], listen: str) -> dict[str, Any]:
    lane = copy.deepcopy(tree["lanes"][0])
    lane["id"] = "L02"
    lane["camera"]["listen"] = listen
    lane["camera"]["entry"]["id"] = "L02-entry"
    tree["lanes"].append(lane)
    return tree


def test_a_lane_without_a_camera_is_identified_by_tag_alone(tmp_path: Path) -> None:
    config = GatewayConfig.model_validate(base_config(tmp_path))
    assert lane_params(config.lanes[0]).camera is None


def test_the_defaults_are_the_cores(tmp_path: Path) -> None:
    config = GatewayConfig.model_validate(with_camera(tmp_path))
    assert lane_params(config.lanes[0]).camera == CameraParams()


def test_the_camera_settings_reach_the_core_in_its_units(tmp_path: Path) -> None:
    tree = with_camera(
        tmp_path, min_confidence=0.7, plate_wait_ms=2500, early_read_s=45, missing_alarm_after=4
    )
    camera = lane_params(GatewayConfig.model_validate(tree).lanes[0]).camera
    assert camera == CameraParams(
        min_confidence=0.7, plate_wait_s=2.5, early_read_s=45.0, missing_alarm_after=4
    )


@pytest.mark.parametrize(
    ("field", "value"),
    [("min_confidence", 1.5), ("min_confidence", -0.1), ("plate_wait_ms", 0),
     ("early_read_s", 0), ("missing_alarm_after", 0)],
)  # fmt: skip
def test_a_bad_cross_check_setting_names_its_field(tmp_path: Path, field: str, value: Any) -> None:
    with pytest.raises(ValidationError, match=f"lanes.0.camera.{field}"):
        GatewayConfig.model_validate(with_camera(tmp_path, **{field: value}))


@pytest.mark.parametrize(
    ("first", "second"),
    [("127.0.0.1:18080", "127.0.0.1:18080"), ("[::1]:18080", "[0:0:0:0:0:0:0:1]:18080")],
)  # the second: one address written two ways
def test_two_lanes_on_one_listener_address_are_refused_naming_both(
    tmp_path: Path, first: str, second: str
) -> None:
    tree = second_lane(with_camera(tmp_path, listen=first), second)
    with pytest.raises(ValidationError, match=r"lanes L01 and L02: camera\.listen .* one address"):
        GatewayConfig.model_validate(tree)


@pytest.mark.parametrize("other", ["127.0.0.1:18081", "127.0.0.2:18080"])
def test_lanes_on_their_own_listeners_are_accepted(tmp_path: Path, other: str) -> None:
    config = GatewayConfig.model_validate(second_lane(with_camera(tmp_path), other))
    assert [lane.id for lane in config.lanes] == ["L01", "L02"]


def test_two_lanes_on_any_free_port_are_accepted(tmp_path: Path) -> None:
    tree = second_lane(with_camera(tmp_path, listen="127.0.0.1:0"), "127.0.0.1:0")
    assert len(GatewayConfig.model_validate(tree).lanes) == 2


async def test_snapshots_default_beside_the_journal(tmp_path: Path) -> None:
    store = snapshot_store(GatewayConfig.model_validate(base_config(tmp_path)))
    try:
        assert store.dir == tmp_path / "journal.snapshots"
        assert store.limits.max_bytes == 2048 * 1024 * 1024
        assert store.limits.max_age_s == 90 * 86_400
    finally:
        await store.close()


def test_a_relative_snapshots_dir_is_the_config_file_s(tmp_path: Path) -> None:
    tree = base_config(tmp_path) | {"snapshots": {"dir": "pictures", "max_mb": 100}}
    path = tmp_path / "gateway.yaml"
    path.write_text(yaml.safe_dump(tree))
    config = load_config(path)
    assert config.snapshots.dir == tmp_path / "pictures"
    assert config.snapshots.max_mb == 100
