"""The bash completion that install.sh lays down: it is what typer generates for gatectl
today (so it cannot drift from the commands), and a real bash completes with it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "deploy/bash-completion/gatectl"
BIN = Path(sys.executable).parent  # this venv's gatectl


def test_the_script_is_typers_own() -> None:
    # click's protocol, whatever shell runs the test (--show-completion asks the parent's)
    generated = subprocess.run(  # noqa: S603 - this venv's gatectl
        [str(BIN / "gatectl")],
        env={**os.environ, "_GATECTL_COMPLETE": "source_bash"},
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout
    body = "".join(line for line in SCRIPT.read_text().splitlines(True) if not line.startswith("#"))
    assert body == generated


@pytest.mark.parametrize(
    ("words", "offered"),
    [
        (["gatectl", "sta"], "status"),
        (["gatectl", "run", "--c"], "--config"),
        (["gatectl", "simul"], "simulate"),
    ],
)
def test_bash_completes_commands_and_options(words: list[str], offered: str) -> None:
    program = (
        f"source {SCRIPT}\n"
        f"COMP_WORDS=({' '.join(words)}); COMP_CWORD={len(words) - 1}\n"
        "_gatectl_completion gatectl\n"
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    done = subprocess.run(  # noqa: S603 - the script under test
        ["bash", "--norc", "-c", program],  # noqa: S607 - the shell users complete in
        env={**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}"},
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert offered in done.stdout.splitlines()
