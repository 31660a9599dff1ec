"""gatectl: run, demonstrate and maintain gatebridge lanes.

Commands grow with the project (DESIGN section 7); each validates its arguments and
reports errors in one line naming the bad argument, never with a traceback.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console

if TYPE_CHECKING:
    from controller.config.models import GatewayConfig

EMULATE_CONTROL = Path("/tmp/gatebridge/emulate.sock")  # noqa: S108 - beside the emulated ptys

app = typer.Typer(
    name="gatectl",
    help="gatebridge lane controller: run, demo and maintenance.",
    no_args_is_help=True,
    add_completion=True,  # --install-completion; the bash script: deploy/bash-completion
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


@app.command()
def run(
    config: Path = typer.Option(..., "--config", "-c", help="The gateway config (YAML)."),
) -> None:
    """Run the controller against the endpoints in the config (emulators or hardware)."""
    import asyncio

    from controller.cli.run import run_gateway
    from controller.errors import GateError

    settings = _load(config)
    try:
        asyncio.run(run_gateway(settings))
    except GateError as error:
        print(f"error: {error}", file=sys.stderr)
        raise typer.Exit(2) from None


@app.command()
def emulate(
    config: Path = typer.Option(..., "--config", "-c", help="The gateway config (YAML)."),
    time_scale: float | None = typer.Option(
        None, "--time-scale", min=0.1, max=100.0, help="Physics this many times faster."
    ),
    rate: float = typer.Option(0.0, "--rate", min=0.0, help="Poisson arrivals per hour per lane."),
    saturate: int = typer.Option(
        0, "--saturate", min=0, max=20, help="Keep this many trucks queued per lane."
    ),
    misbehave: float = typer.Option(
        0.0, "--misbehave", min=0.0, max=1.0, help="Share of drivers who misbehave."
    ),
    seed: int = typer.Option(0, "--seed"),
    control: Path = typer.Option(
        EMULATE_CONTROL, "--control", help="The control channel's unix socket."
    ),
) -> None:
    """Serve every device of every lane in the config on its endpoint, with a world."""
    import asyncio

    from controller.cli.emulate import EmulateError
    from controller.cli.emulate import emulate as serve

    try:
        asyncio.run(
            serve(
                _load(config),
                control=control,
                time_scale=time_scale,
                rate_per_h=rate,
                saturate=saturate,
                misbehave=misbehave,
                seed=seed,
            )
        )
    except EmulateError as error:
        print(f"error: {error}", file=sys.stderr)
        raise typer.Exit(2) from None


@app.command()
def simulate(
    lanes: int = typer.Option(1, "--lanes", min=1, max=64),
    hours: float = typer.Option(1.0, "--hours", min=0.01, max=168.0),
    seed: int = typer.Option(0, "--seed"),
    faults: float = typer.Option(
        0.0, "--faults", min=0.0, max=100.0, help="Wire faults per lane-hour (silent devices)."
    ),
    misbehave: float = typer.Option(
        0.0, "--misbehave", min=0.0, max=1.0, help="Share of drivers who misbehave."
    ),
    json_out: Path | None = typer.Option(None, "--json", help="Write the report as JSON."),
) -> None:
    """Many lanes, the full polling stack, virtual time: a report of throughput and safety."""
    from controller.cli.simulate import simulate as run_simulation

    console = Console(highlight=False)
    raise typer.Exit(run_simulation(lanes, hours, seed, faults, misbehave, json_out, console))


SOCKET = typer.Option(
    Path("/run/gatebridge/gatectl.sock"),
    "--socket",
    "-s",
    help="The controller's maintenance socket.",
)
LANE = typer.Argument(..., help="Lane id, e.g. L01.")
REASON = typer.Option(..., "--reason", "-r", help="Why (audited; at least 3 characters).")


def _ask(socket_path: Path, payload: dict[str, object]) -> None:
    from controller.cli.client import ClientError, request, show

    try:
        code = show(request(socket_path, payload))
    except ClientError as error:
        print(f"error: {error}", file=sys.stderr)
        raise typer.Exit(2) from None
    raise typer.Exit(code)


@app.command()
def status(socket: Path = SOCKET) -> None:
    """Show every lane: state, lights, barriers, deck, alarms, device health."""
    _ask(socket, {"op": "status"})


@app.command()
def events(
    follow: bool = typer.Option(False, "--follow", "-f", help="Keep printing new events."),
    last: int = typer.Option(50, "--last", min=0, max=10_000),
    socket: Path = SOCKET,
) -> None:
    """Show the recent lane events (and follow new ones)."""
    from controller.cli.client import ClientError
    from controller.cli.client import follow as stream

    if not follow:
        _ask(socket, {"op": "events", "last": last})
    try:
        for event in stream(socket, last):
            print(json.dumps(event, sort_keys=True), flush=True)
    except ClientError as error:
        print(f"error: {error}", file=sys.stderr)
        raise typer.Exit(2) from None
    except KeyboardInterrupt:
        raise typer.Exit(0) from None


@app.command()
def mode(
    lane: str = LANE,
    target: str = typer.Argument(..., help="auto, maintenance, closed or emergency."),
    reason: str = typer.Option("", "--reason", "-r"),
    socket: Path = SOCKET,
) -> None:
    """Change a lane's mode (emergency needs an officer)."""
    _ask(socket, {"op": "mode", "lane": lane, "mode": target, "reason": reason})


@app.command()
def barrier(
    lane: str = LANE,
    side: str = typer.Argument(..., help="entry or exit."),
    action: str = typer.Argument(..., help="open, close or stop."),
    socket: Path = SOCKET,
) -> None:
    """Move a barrier (maintenance mode; the interlocks still decide)."""
    _ask(socket, {"op": "barrier", "lane": lane, "side": side, "action": action})


@app.command()
def light(
    lane: str = LANE,
    side: str = typer.Argument(..., help="entry or exit."),
    aspect: str = typer.Argument(..., help="red or green."),
    socket: Path = SOCKET,
) -> None:
    """Set a light (maintenance mode; green needs a confirmed open barrier)."""
    _ask(socket, {"op": "light", "lane": lane, "side": side, "aspect": aspect})


@app.command()
def hold(
    lane: str = LANE,
    action: str = typer.Argument(..., help="release or reject."),
    reason: str = REASON,
    socket: Path = SOCKET,
) -> None:
    """An officer's decision on a held vehicle."""
    _ask(socket, {"op": "hold", "lane": lane, "action": action, "reason": reason})


@app.command()
def identify(
    lane: str = LANE,
    tag: str = typer.Argument(..., help="The EPC, hex."),
    reason: str = REASON,
    socket: Path = SOCKET,
) -> None:
    """Identify the vehicle at the approach by hand (officer, audited)."""
    _ask(socket, {"op": "identify", "lane": lane, "tag": tag, "reason": reason})


@app.command()
def reset(lane: str = LANE, reason: str = REASON, socket: Path = SOCKET) -> None:
    """Clear a latched fault (officer; refused while device data is stale)."""
    _ask(socket, {"op": "reset", "lane": lane, "reason": reason})


@app.command()
def audit(
    verify: bool = typer.Option(False, "--verify", help="Check the hash chain."),
    last: int = typer.Option(50, "--last", min=0, max=10_000),
    socket: Path = SOCKET,
) -> None:
    """Show the audit log of maintenance commands (and verify its chain)."""
    _ask(socket, {"op": "audit", "verify": verify, "last": last})


def _load(path: Path) -> GatewayConfig:
    from controller.config.load import load_config
    from controller.errors import ConfigError

    try:
        return load_config(path)
    except ConfigError as error:
        for line in str(error).splitlines():
            print(f"error: {line}", file=sys.stderr)
        raise typer.Exit(2) from None


from controller.cli.journal_cmd import journal_app  # noqa: E402 - the sub-apps follow the commands

app.add_typer(journal_app, name="journal")
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
def central(
    manifest: Path = typer.Option(..., "--manifest", help="Tag -> decision manifest (YAML)."),
    signing_key: Path = typer.Option(..., "--signing-key", help="Ed25519 private key (PEM)."),
    mqtt: str = typer.Option(
        "mqtt://127.0.0.1:1883", "--mqtt", help="Broker URL: mqtt[s]://HOST[:PORT]."
    ),
    key_id: str = typer.Option("central", "--key-id", help="The key id gateways verify by."),
    state: Path | None = typer.Option(
        None, "--state", help="Seq state file (default: beside the key, .seq.json)."
    ),
    ca_file: Path | None = typer.Option(None, "--ca-file", help="CA bundle for mqtts."),
    validity_s: float = typer.Option(
        60.0, "--validity-s", min=1.0, max=3600.0, help="How long a decision stays valid."
    ),
) -> None:
    """The reference central clearance service: answers requests with signed decisions."""
    from controller.cli.central_cmd import central_service, run_central
    from controller.errors import GateError

    try:
        service = central_service(manifest, signing_key, key_id, state, validity_s)
        run_central(service, mqtt, ca_file)
    except GateError as error:
        print(f"error: {error}", file=sys.stderr)
        raise typer.Exit(2) from None
    except KeyboardInterrupt:
        raise typer.Exit(0) from None


keys_app = typer.Typer(help="Signing keys of the central service.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")


@keys_app.command("generate")
def keys_generate(
    directory: Path = typer.Argument(..., help="Where to write KEY_ID.key and KEY_ID.pub."),
    key_id: str = typer.Option("central", "--key-id", help="Names the files and the key."),
) -> None:
    """Write an Ed25519 key pair (PKCS#8 private key 0600, SubjectPublicKeyInfo public)."""
    from controller.cli.central_cmd import generate_keys
    from controller.errors import GateError

    try:
        private, public = generate_keys(directory, key_id)
    except GateError as error:
        print(f"error: {error}", file=sys.stderr)
        raise typer.Exit(2) from None
    print(f"private key: {private}\npublic key:  {public}")


@app.command()
def version() -> None:
    """Print the gatebridge version."""
    from importlib.metadata import version as dist_version

    print(dist_version("gatebridge"))


if __name__ == "__main__":
    app()
