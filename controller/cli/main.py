"""gatectl: run, demonstrate and maintain gatebridge lanes.

Commands grow with the project (DESIGN section 7); each validates its arguments and
reports errors in one line naming the bad argument, never with a traceback.
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.console import Console

app = typer.Typer(
    name="gatectl",
    help="gatebridge lane controller: run, demo and maintenance.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.command()
def demo(
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print only the summary."),
) -> None:
    """Run the scripted demo lane: four trucks through the pure core, in virtual time."""
    from controller.cli.demo import run_demo

    console = Console(highlight=False, force_terminal=sys.stdout.isatty())
    run_demo(console, verbose=not quiet)


config_app = typer.Typer(help="Configuration files.", no_args_is_help=True)
app.add_typer(config_app, name="config")


@config_app.command("check")
def config_check_command(
    file: Path = typer.Argument(..., help="The gateway config (YAML) to validate."),
) -> None:
    """Validate a config: every error names the path of the bad field."""
    from controller.cli.config_cmd import config_check

    raise typer.Exit(config_check(file))


@app.command()
def version() -> None:
    """Print the gatebridge version."""
    from importlib.metadata import version as dist_version

    print(dist_version("gatebridge"))


if __name__ == "__main__":
    app()
