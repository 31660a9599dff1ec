"""`gatectl journal export` takes --json like every read command, and its config from
$GATEBRIDGE_CONFIG (issue 13 part 5, issue 17 item 12)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from controller.cli.main import app
from tests.controller.journal.test_export import a_journal
from tests.controller.journal.test_export_cli import config_file


async def test_export_takes_json_and_the_config_from_the_environment(tmp_path: Path) -> None:
    await (await a_journal(tmp_path / "j.db")).close()
    env = {"GATEBRIDGE_CONFIG": str(config_file(tmp_path))}
    result = CliRunner().invoke(app, ["journal", "export", "--json", "--lane", "L01"], env=env)
    assert result.exit_code == 0, result.stderr
    assert [json.loads(line)["lane"] for line in result.stdout.splitlines()] == ["L01"] * 3
