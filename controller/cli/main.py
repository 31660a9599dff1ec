"""gatectl: run, demonstrate and maintain gatebridge lanes.

Commands grow with the project (DESIGN section 7); each validates its arguments and
reports errors in one line naming the bad argument, never with a traceback.
"""

from __future__ import annotations

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
    vehicles: int = typer.Option(
        5,
        "--vehicles",
        "-n",
        min=1,
        max=10_000,
        help="Stop after this many vehicles and print a summary.",
    ),
    time_scale: float = typer.Option(
        4.0,
        "--time-scale",
        min=0.1,
        max=50.0,
        help="Run the lane's physics this many times faster.",
    ),
    seed: int = typer.Option(1, "--seed", help="Seed of the world's trucks and noise."),
    scripted: bool = typer.Option(
        False, "--scripted", help="Only the pure core against a scripted lane."
    ),
) -> None:
    """Controller + emulated lane + in-process clearance in one process, with a live view."""
    console = Console(highlight=False)
    if scripted:
        from controller.cli.demo import run_demo

        run_demo(console, verbose=True)
        return
    import asyncio

    from controller.cli.live import run_live_demo

    asyncio.run(run_live_demo(vehicles, time_scale, seed, console))


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
