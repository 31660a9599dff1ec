"""`gatectl journal export` through its own typer app: JSON Lines out, errors as one line
and exit code 2, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from controller.cli.journal_cmd import journal_app
from tests.controller.journal.test_export import a_journal

EXAMPLE = Path(__file__).resolve().parents[3] / "deploy" / "examples" / "emulated-lane.yaml"


def config_file(tmp_path: Path, **change: object) -> Path:
    document = yaml.safe_load(EXAMPLE.read_text())
    document.update({"journal": str(tmp_path / "j.db"), "clearance": {}, **change})
    path = tmp_path / "gateway.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(journal_app, ["export", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit)
    return result.exit_code, result.stdout, result.stderr


async def test_export_to_stdout_and_to_a_file(tmp_path: Path) -> None:
    await (await a_journal(tmp_path / "j.db")).close()
    config = str(config_file(tmp_path))
    code, out, err = run("--config", config, "--lane", "L01")
    assert code == 0, err
    assert [json.loads(line)["lane"] for line in out.splitlines()] == ["L01"] * 3
    assert "exported 3 record(s)" in err
    target = tmp_path / "out.jsonl"
    code, out, _ = run("-c", config, "--since", "2027-01-15T08:30:00Z", "--out", str(target))
    assert (code, out) == (0, "")
    assert len(target.read_text().splitlines()) == 2


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--lane", "L07"], "error: --lane L07: not a lane of this gateway (L01)"),
        (["--since", "yesterday"], "error: --since yesterday: not an RFC 3339 time"),
        (["--out", "/nonexistent-dir/x.jsonl"], "error: --out /nonexistent-dir/x.jsonl: cannot"),
    ],
)
async def test_bad_arguments_are_one_line_and_exit_2(
    tmp_path: Path, args: list[str], says: str
) -> None:
    await (await a_journal(tmp_path / "j.db")).close()
    code, out, err = run("--config", str(config_file(tmp_path)), *args)
    assert code == 2
    assert err.startswith(says)
    assert len(err.splitlines()) == 1
    assert out == ""


def test_a_missing_journal_or_a_bad_config_is_one_line_and_exit_2(tmp_path: Path) -> None:
    target = tmp_path / "out.jsonl"
    code, _, err = run("--config", str(config_file(tmp_path)), "--out", str(target))
    assert code == 2
    assert err == f"error: {tmp_path / 'j.db'}: no journal file there\n"
    assert not target.exists()  # a failed export leaves no file, partial or not
    assert not list(tmp_path.glob("*.partial"))
    bad = config_file(tmp_path, retention={"max_mb": 100, "admission_limit_mb": 100})
    code, _, err = run("--config", str(bad))
    assert code == 2
    assert err.startswith("error: retention: admission_limit_mb (100) must be below max_mb")
    assert len(err.splitlines()) == 1
