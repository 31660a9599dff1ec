"""`gatectl config check` (issue 17 item 14): a config whose files are missing is not ok,
and errors name what the config says, not what a pty resolved to."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from controller.cli.main import app
from controller.config.load import load_config
from controller.errors import ConfigError

ROOT = Path(__file__).resolve().parents[3]
RUNNER = CliRunner()


def write_config(tmp: Path, **changes: object) -> Path:
    document = yaml.safe_load((ROOT / "deploy/examples/emulated-lane.yaml").read_text())
    document.update(journal=str(tmp / "journal.db"), socket=str(tmp / "gatectl.sock"))
    document["clearance"]["manifest"] = str(ROOT / "deploy/examples/manifest.yaml")
    for dotted, value in changes.items():
        *parents, leaf = dotted.split("__")
        target = document
        for name in parents:
            target = target[int(name)] if isinstance(target, list) else target[name]
        target[leaf] = value
    path = tmp / "gateway.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


def check(path: Path) -> tuple[int, str, str]:
    result = RUNNER.invoke(app, ["config", "check", str(path)])
    return result.exit_code, result.stdout, result.stderr


def test_a_complete_config_is_ok(tmp_path: Path) -> None:
    code, out, err = check(write_config(tmp_path))
    assert (code, err) == (0, "")
    assert out.startswith("ok: ")


def test_a_missing_manifest_is_named_by_check_and_by_run(tmp_path: Path) -> None:
    config = write_config(tmp_path, clearance__manifest="missing.yaml")
    code, out, err = check(config)
    assert code == 2
    assert out == ""
    assert err == f"error: clearance.manifest: {tmp_path / 'missing.yaml'}: no such file\n"
    run = RUNNER.invoke(app, ["run", "--config", str(config)])
    assert run.exit_code == 2
    assert run.stderr == err  # before touching a device, not a raw [Errno 2]


def test_missing_key_and_broker_files_are_each_named(tmp_path: Path) -> None:
    config = write_config(
        tmp_path,
        clearance__verify_keys={"central-2026": "keys/central.pub"},
        mqtt={"url": "mqtt://127.0.0.1:1883", "ca_file": "ca.pem", "password_file": "mqtt.pass"},
    )
    (tmp_path / "ca.pem").write_text("a CA bundle")
    code, _, err = check(config)
    assert code == 2
    assert err.splitlines() == [
        f"error: clearance.verify_keys.central-2026: {tmp_path / 'keys/central.pub'}: no such file",
        f"error: mqtt.password_file: {tmp_path / 'mqtt.pass'}: no such file",
    ]


def test_a_unit_used_twice_names_the_configured_port_not_the_ptys_target(
    tmp_path: Path,
) -> None:
    target = tmp_path / "pts-7"
    target.write_text("")
    (tmp_path / "L01-rs485").symlink_to(target)  # as the emulator links a pty's slave
    url = f"modbus-rtu://{tmp_path}/L01-rs485?baud=38400"
    config = write_config(
        tmp_path,
        lanes__0__entry_barrier={"url": url, "unit": 1, "poll_ms": 100},
        lanes__0__exit_barrier={"url": url, "unit": 1, "poll_ms": 100},
    )
    with pytest.raises(ConfigError) as raised:
        load_config(config)
    assert str(raised.value) == (
        f"lanes[0].exit_barrier.unit: unit 1 is used twice on rtu:{tmp_path}/L01-rs485"
    )
    assert "pts-7" not in check(config)[2]
