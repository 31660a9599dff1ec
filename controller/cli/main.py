"""gatectl: run, demonstrate and maintain gatebridge lanes.

Commands grow with the project (DESIGN section 7); each validates its arguments and
reports errors in one line naming the bad argument, never with a traceback (args.py).
Commands against a running controller find its socket with `client.socket_for`, ask with
`client.ask` (print the answer, exit 0 ok, 1 refused, 2 usage, 3 unreachable, 4 device
error) and render with views.py; docs/maintenance.md is the technician's guide.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console

from controller.cli.args import (
    AspectArg,
    BarrierArg,
    HoldArg,
    ModeArg,
    OneLineErrors,
    SideArg,
    lane_id,
    reason_text,
    request_id_text,
    tag_hex,
)
from controller.cli.client import ask, socket_for
from controller.cli.views import render_audit, render_operation, render_status

if TYPE_CHECKING:
    from controller.config.models import GatewayConfig

EMULATE_CONTROL = "emulate.sock"  # beside the config's maintenance socket

app = OneLineErrors(
    name="gatectl",
    help="gatebridge lane controller: run, demo and maintenance.",
    no_args_is_help=True,
    add_completion=True,  # --install-completion; the bash script: deploy/bash-completion
    pretty_exceptions_enable=False,
)


GATEWAY_CONFIG = typer.Option(
    ..., "--config", "-c", envvar="GATEBRIDGE_CONFIG", help="The gateway config (YAML)."
)


@app.command()
def demo(
    vehicles: int = typer.Option(
        6,
        "--vehicles",
        "-n",
        min=1,
        max=10_000,
        help="Stop after this many vehicles (the 6th carries another's tag) and sum up.",
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

    from simulation.live import run_live_demo

    asyncio.run(run_live_demo(vehicles, time_scale, seed, console))


@app.command()
def run(
    config: Path = GATEWAY_CONFIG,
) -> None:
    """Run the controller against the endpoints in the config (emulators or hardware)."""
    import asyncio

    from controller.cli.run import run_gateway
    from controller.errors import AlreadyOwned, GateError

    settings = _load(config, files=True)
    try:
        asyncio.run(run_gateway(settings))
    except AlreadyOwned as error:  # another controller runs: refused, not a usage error
        print(f"error: {error}", file=sys.stderr)
        raise typer.Exit(1) from None
    except GateError as error:
        print(f"error: {error}", file=sys.stderr)
        raise typer.Exit(2) from None


@app.command()
def emulate(
    config: Path = GATEWAY_CONFIG,
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
    control: Path | None = typer.Option(
        None,
        "--control",
        help=f"The control channel's unix socket [default: {EMULATE_CONTROL} beside the "
        "config's socket].",
        show_default=False,
    ),
    camera_url: list[str] = typer.Option(
        [],
        "--camera-url",
        metavar="LANE=URL",
        help="Post LANE's camera reads to URL (http://HOST:PORT/PATH) [default: the "
        "config's camera.listen and path].",
        show_default=False,
    ),
    camera_secret_file: list[str] = typer.Option(
        [],
        "--camera-secret-file",
        metavar="CAMERA=FILE",
        help="The secret CAMERA posts with [default: its camera secret_file].",
        show_default=False,
    ),
) -> None:
    """Serve every device of every lane in the config on its endpoint, with a world."""
    import asyncio

    from controller.cli.emulate import CameraTargets, EmulateError
    from controller.cli.emulate import emulate as serve

    settings = _load(config)
    urls = _pairs(camera_url, "--camera-url", "LANE=URL")
    secrets = _pairs(camera_secret_file, "--camera-secret-file", "CAMERA=FILE")
    cameras = CameraTargets(urls, {camera: Path(file) for camera, file in secrets.items()})
    try:
        asyncio.run(
            serve(
                settings,
                control=control or settings.socket.parent / EMULATE_CONTROL,
                time_scale=time_scale,
                rate_per_h=rate,
                saturate=saturate,
                misbehave=misbehave,
                seed=seed,
                cameras=cameras,
            )
        )
    except EmulateError as error:
        print(f"error: {error}", file=sys.stderr)
        raise typer.Exit(2) from None


def _pairs(values: list[str], option: str, form: str) -> dict[str, str]:
    pairs = {}
    for value in values:
        key, equals, rest = value.partition("=")
        if not (key and equals and rest):
            raise typer.BadParameter(f"{value!r} is not {form}", param_hint=option)
        pairs[key] = rest
    return pairs


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
    html_out: Path | None = typer.Option(
        None, "--html", help="Write the report as a page with charts (inline SVG)."
    ),
    camera: bool = typer.Option(
        True, "--camera/--no-camera", help="An entry camera cross-checking tags on every lane."
    ),
) -> None:
    """Many lanes, the full polling stack, virtual time: a report of throughput and safety."""
    from controller.cli.simulate import simulate as run_simulation

    console = Console(highlight=False)
    code = run_simulation(
        lanes, hours, seed, faults, misbehave, json_out, console, html_out=html_out, camera=camera
    )
    raise typer.Exit(code)


SOCKET = typer.Option(
    None,
    "--socket",
    "-s",
    help="The controller's maintenance socket [default: the config's, else "
    "$GATEBRIDGE_SOCKET, else /run/gatebridge/gatectl.sock].",
    show_default=False,
)
CONFIG = typer.Option(
    None,
    "--config",
    "-c",
    help="Take the socket from this gateway config [env GATEBRIDGE_CONFIG].",
    show_default=False,
)
JSON = typer.Option(False, "--json", help="Print the answer as JSON, for scripts.")
LANE = typer.Argument(..., help="Lane id, e.g. L01.", callback=lane_id)
SIDE = typer.Argument(..., help="entry or exit.")
REASON = typer.Option(
    ..., "--reason", "-r", help="Why (audited; at least 3 characters).", callback=reason_text
)


def _ask(socket_path: Path | None, payload: dict[str, object]) -> None:
    """An operating command: ask the socket (found as `socket_for` does), print, exit."""
    ask(socket_for(socket_path, None), payload, render_operation)


@app.command()
def status(
    socket: Path | None = SOCKET, config: Path | None = CONFIG, as_json: bool = JSON
) -> None:
    """Show every lane: state, lights, barriers, deck, alarms, device health."""
    ask(socket_for(socket, config), {"op": "status"}, render_status, as_json=as_json)


@app.command()
def events(
    follow: bool = typer.Option(False, "--follow", "-f", help="Keep printing new events."),
    last: int = typer.Option(50, "--last", min=0, max=10_000),
    socket: Path | None = SOCKET,
    config: Path | None = CONFIG,
    as_json: bool = typer.Option(False, "--json", help="One JSON object per event (JSON Lines)."),
) -> None:
    """Show the recent lane events, with their time and seq (and follow new ones)."""
    from controller.cli.lane_cmds import show_events

    show_events(socket_for(socket, config), last, follow=follow, as_json=as_json)


@app.command()
def monitor(
    config: Path | None = typer.Option(None, "--config", "-c", help="Take the socket from it."),
    socket: Path | None = typer.Option(None, "--socket", "-s", help="The maintenance socket."),
    interval: float = typer.Option(1.0, "--interval", min=0.2, max=60.0, help="Seconds."),
) -> None:
    """Every lane live, full screen (q quits); reads the maintenance socket only."""
    from controller.cli.monitor import monitor_command

    raise typer.Exit(monitor_command(config, socket, interval))


@app.command()
def mode(
    lane: str = LANE,
    target: ModeArg = typer.Argument(..., help="auto, maintenance, closed or emergency."),
    reason: str = typer.Option("", "--reason", "-r", help="Why (audited; an emergency needs one)."),
    socket: Path | None = SOCKET,
    config: Path | None = CONFIG,
) -> None:
    """Change a lane's mode (emergency needs an officer and a reason)."""
    if target == ModeArg.EMERGENCY and len(reason.strip()) < 3:
        raise typer.BadParameter(
            "an emergency needs a reason (at least 3 characters)", param_hint="'--reason'"
        )
    payload = {"op": "mode", "lane": lane, "mode": target.value, "reason": reason}
    ask(socket_for(socket, config), payload, render_operation)


@app.command()
def barrier(
    lane: str = LANE,
    side: SideArg = SIDE,
    action: BarrierArg = typer.Argument(..., help="open, close or stop."),
    socket: Path | None = SOCKET,
    config: Path | None = CONFIG,
) -> None:
    """Move a barrier (maintenance mode; the interlocks still decide)."""
    payload = {"op": "barrier", "lane": lane, "side": side.value, "action": action.value}
    ask(socket_for(socket, config), payload, render_operation)


@app.command()
def light(
    lane: str = LANE,
    side: SideArg = SIDE,
    aspect: AspectArg = typer.Argument(..., help="red or green."),
    socket: Path | None = SOCKET,
    config: Path | None = CONFIG,
) -> None:
    """Set a light (maintenance mode; green needs a confirmed open barrier)."""
    payload = {"op": "light", "lane": lane, "side": side.value, "aspect": aspect.value}
    ask(socket_for(socket, config), payload, render_operation)


@app.command()
def hold(
    lane: str = LANE,
    action: HoldArg = typer.Argument(..., help="release or reject."),
    reason: str = REASON,
    socket: Path | None = SOCKET,
    config: Path | None = CONFIG,
) -> None:
    """An officer's decision on a held vehicle."""
    payload = {"op": "hold", "lane": lane, "action": action.value, "reason": reason}
    ask(socket_for(socket, config), payload, render_operation)


@app.command()
def identify(
    lane: str = LANE,
    tag: str = typer.Argument(..., help="The EPC, hex.", callback=tag_hex),
    reason: str = REASON,
    socket: Path | None = SOCKET,
    config: Path | None = CONFIG,
) -> None:
    """Identify the vehicle at the approach by hand (officer, audited)."""
    payload = {"op": "identify", "lane": lane, "tag": tag, "reason": reason}
    ask(socket_for(socket, config), payload, render_operation)


REQUEST_ID = typer.Option(
    None,
    "--request-id",
    help="The clearance request of the vehicle you checked (gatectl status shows it): "
    "refused if the vehicle at the approach is another one by then.",
    callback=request_id_text,
    show_default=False,
)


def _approach(lane: str, action: str, reason: str, request_id: str | None) -> dict[str, object]:
    payload: dict[str, object] = {"op": "approach", "lane": lane, "action": action}
    payload["reason"] = reason
    return payload if request_id is None else payload | {"request_id": request_id}


@app.command()
def confirm(
    lane: str = LANE,
    reason: str = REASON,
    request_id: str | None = REQUEST_ID,
    socket: Path | None = SOCKET,
    config: Path | None = CONFIG,
) -> None:
    """Vouch for the identity of the vehicle held at the approach (identity mismatch, or
    cleared by its plate alone): it may be admitted (officer, audited)."""
    payload = _approach(lane, "confirm", reason, request_id)
    ask(socket_for(socket, config), payload, render_operation)


@app.command()
def refuse(
    lane: str = LANE,
    reason: str = REASON,
    request_id: str | None = REQUEST_ID,
    socket: Path | None = SOCKET,
    config: Path | None = CONFIG,
) -> None:
    """Turn the vehicle held at the approach away: it is not admitted (officer, audited)."""
    payload = _approach(lane, "refuse", reason, request_id)
    ask(socket_for(socket, config), payload, render_operation)


@app.command()
def reset(
    lane: str = LANE,
    reason: str = REASON,
    socket: Path | None = SOCKET,
    config: Path | None = CONFIG,
) -> None:
    """Clear a latched fault (officer; refused while device data is stale)."""
    payload = {"op": "reset", "lane": lane, "reason": reason}
    ask(socket_for(socket, config), payload, render_operation)


@app.command()
def ack(
    lane: str = LANE,
    alarm: str = typer.Argument(..., help="The alarm's code, as status lists it."),
    reason: str = REASON,
    socket: Path = SOCKET,
) -> None:
    """Acknowledge an alarm (officer, audited); one whose cause has ended is removed."""
    _ask(socket, {"op": "ack", "lane": lane, "alarm": alarm, "reason": reason})


@app.command()
def audit(
    verify: bool = typer.Option(False, "--verify", help="Check the hash chain."),
    last: int = typer.Option(50, "--last", min=0, max=10_000),
    socket: Path | None = SOCKET,
    config: Path | None = CONFIG,
    as_json: bool = JSON,
) -> None:
    """Show the audit log of maintenance commands, with outcomes (and verify its chain)."""
    payload = {"op": "audit", "verify": verify, "last": last}
    ask(socket_for(socket, config), payload, render_audit, as_json=as_json)


def _load(path: Path, *, files: bool = False) -> GatewayConfig:
    from controller.cli.loading import load_or_exit

    return load_or_exit(path, files=files)


from controller.cli.journal_cmd import journal_app  # noqa: E402 - the sub-apps follow the commands

app.add_typer(journal_app, name="journal")
from controller.cli.diag import diag_app  # noqa: E402

app.add_typer(diag_app, name="diag")
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


from controller.cli.console_cmd import console_app  # noqa: E402

app.add_typer(console_app, name="console")

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
