"""`gatectl console` and `gatectl console adduser` on the command line."""

from __future__ import annotations

import stat
from pathlib import Path

from typer.testing import CliRunner

from controller.cli.main import app
from controller.console.users import Users, read_accounts
from tests.console.conftest import FAST


def test_adduser_reads_a_piped_password_and_writes_the_file(tmp_path: Path) -> None:
    users = tmp_path / "users.json"
    args = ["console", "adduser", "olga", "--role", "officer", "--users-file", str(users)]
    result = CliRunner().invoke(app, args, input="a long password\n")
    assert result.exit_code == 0, result.output
    assert f"olga (officer) written to {users}" in result.output
    assert stat.S_IMODE(users.stat().st_mode) == 0o600
    assert read_accounts(users)["olga"].role == "officer"
    assert Users(users, FAST).check("olga", "a long password") is not None
    assert Users(users, FAST).check("olga", "a wrong password") is None


def test_adduser_refuses_a_bad_role_in_one_line(tmp_path: Path) -> None:
    args = ["console", "adduser", "olga", "--role", "boss", "--users-file", str(tmp_path / "u")]
    result = CliRunner().invoke(app, args, input="a long password\n")
    assert result.exit_code == 2
    assert result.output.strip() == "error: role: 'boss' is not one of viewer, technician, officer"


def test_console_without_a_config_says_so(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["console"])
    assert result.exit_code == 2
    assert "error: --config: the gateway config is required" in result.output


def test_console_listen_obeys_the_configs_rules(tmp_path: Path) -> None:
    config = tmp_path / "gw.yaml"
    example = Path(__file__).resolve().parents[2] / "deploy/examples/emulated-lane.yaml"
    config.write_text(example.read_text())
    (tmp_path / "manifest.yaml").write_text("{}\n")
    result = CliRunner().invoke(app, ["console", "--config", str(config), "--listen", "0.0.0.0:80"])
    assert result.exit_code == 2
    assert result.output.strip() == (
        "error: --listen: 0.0.0.0 listens everywhere: name one address (127.0.0.1 by default)"
    )
