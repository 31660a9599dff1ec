"""The one way gatectl's commands load a config: the config, or its errors one line each
on stderr and exit code 2 (a usage error: nothing was started)."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from controller.config.load import check_files, load_config
from controller.config.models import GatewayConfig
from controller.errors import ConfigError


def load_or_exit(path: Path, *, files: bool = False) -> GatewayConfig:
    """The config at `path`; with `files`, the files it names must exist and be readable."""
    try:
        config = load_config(path)
        if files:
            check_files(config)
    except ConfigError as error:
        for line in str(error).splitlines():
            print(f"error: {line}", file=sys.stderr)
        raise typer.Exit(2) from None
    return config
