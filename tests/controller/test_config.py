"""Config validation: the examples load; every error names its path in one line."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from controller.cli.config_cmd import config_check
from controller.config.lane import lane_params
from controller.config.load import load_config
from controller.errors import ConfigError

EXAMPLES = Path(__file__).resolve().parents[2] / "deploy" / "examples"


def test_the_examples_load() -> None:
    emulated = load_config(EXAMPLES / "emulated-lane.yaml")
    assert [lane.id for lane in emulated.lanes] == ["L01"]
    assert emulated.clearance.manifest == EXAMPLES / "manifest.yaml"
    real = load_config(EXAMPLES / "gateway.yaml")
    assert len(real.lanes) == 2
    params = lane_params(real.lanes[0])
    assert params.clear_hold_s == 1.0
    assert params.latch_s == 5.0


def broken(
    tmp_path: Path, change: dict[str, object], lane_change: dict[str, object] | None = None
) -> str:
    document = yaml.safe_load((EXAMPLES / "emulated-lane.yaml").read_text())
    document.update(change)
    if lane_change:
        document["lanes"][0].update(lane_change)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(document))
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return str(caught.value)


def test_unknown_field_names_its_path(tmp_path: Path) -> None:
    io = {"url": "modbus-tcp://127.0.0.1:15020", "pollms": 50}
    assert broken(tmp_path, {}, {"io": io}) == "lanes[0].io.pollms: unknown field"


@pytest.mark.parametrize(
    ("lane_change", "says"),
    [
        (
            {"io": {"url": "modbus-tcp://127.0.0.1", "poll_ms": 0}},
            "lanes[0].io.poll_ms: Input should be greater than 0",
        ),
        ({"io": {"url": "ftp://x"}}, "lanes[0].io.url: 'ftp://x': scheme must be"),
        (
            {"scale": {"url": "modbus-tcp://127.0.0.1"}},
            "lanes[0].scale.url: 'modbus-tcp://127.0.0.1' is not a serial endpoint",
        ),
        (
            {
                "wiring": {
                    "inputs": {
                        "approach_loop": 0,
                        "entry_arm_loop": 0,
                        "beam_in": 2,
                        "beam_out": 3,
                        "exit_arm_loop": 4,
                    },
                    "outputs": {"entry_red": 0, "entry_green": 1, "exit_red": 2, "exit_green": 3},
                }
            },
            "lanes[0].wiring: inputs: two signals on one channel",
        ),
        (
            {
                "wiring": {
                    "inputs": {
                        "approach_loop": 0,
                        "entry_arm_loop": 1,
                        "beam_in": 2,
                        "beam_out": 3,
                        "exit_arm_loop": 4,
                        "entry_red_ok": 5,
                    },
                    "outputs": {"entry_red": 0, "entry_green": 1, "exit_red": 2, "exit_green": 3},
                }
            },
            "lanes[0].wiring: inputs: wire 'entry_red_ok' and 'exit_red_ok' together, or neither",
        ),
        (
            {"weighing": {"empty_kg": 2000}},
            "lanes[0].weighing: zero_band_kg < empty_kg < on_deck_kg",
        ),
        (
            {
                "exit_barrier": {
                    "url": "modbus-rtu:///tmp/gatebridge/L01-rs485?baud=9600",
                    "unit": 2,
                }
            },
            "conflict",
        ),
        (
            {
                "exit_barrier": {
                    "url": "modbus-rtu:///tmp/gatebridge/L01-rs485?baud=38400",
                    "unit": 1,
                }
            },
            "unit 1 is used twice",
        ),
    ],
)
def test_bad_lane_settings(tmp_path: Path, lane_change: dict[str, object], says: str) -> None:
    message = broken(tmp_path, {}, lane_change)
    assert says in message
    assert message.splitlines()[0].startswith("lanes[0]")


def test_duplicate_lanes_and_bad_names(tmp_path: Path) -> None:
    document = yaml.safe_load((EXAMPLES / "emulated-lane.yaml").read_text())
    second = dict(document["lanes"][0])
    document["lanes"].append(second)
    path = tmp_path / "dup.yaml"
    path.write_text(yaml.safe_dump(document))
    with pytest.raises(ConfigError, match="lane id 'L01' appears twice"):
        load_config(path)
    assert "site: String should match pattern" in broken(tmp_path, {"site": "huu nghi/1"})


def test_file_and_yaml_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("site: x\nlanes: [\n")
    with pytest.raises(ConfigError, match=r"bad.yaml:\d+: not valid YAML"):
        load_config(bad)
    bad.write_text("- just\n- a list\n")
    with pytest.raises(ConfigError, match="must be a mapping"):
        load_config(bad)


def test_config_check_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert config_check(EXAMPLES / "emulated-lane.yaml") == 0
    assert "ok: huunghi-1119/gw-01, 1 lane(s): L01" in capsys.readouterr().out
    bad = tmp_path / "bad.yaml"
    bad.write_text("site: x\n")
    assert config_check(bad) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ")
    assert "Traceback" not in err
