"""Every config setting acts: a walk over every field of every config model.

For each leaf field, a non-default value is set and the objects the setting configures
are built the way `gatectl run` (controller side) or `gatectl emulate` / the simulation
(emulation side) build them; what they hold must differ from the default build. A field
added without a probe here fails `test_every_field_has_a_probe`, so a dead knob cannot
come back unnoticed.
"""

from __future__ import annotations

import asyncio
import copy
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, get_args, get_origin

import pytest
from cryptography.hazmat.primitives import serialization
from pydantic import BaseModel

from controller.bridge.signing import Signer
from controller.cli.run import (
    _bridge,
    _server,
    audit_log,
    broker_settings,
    claim,
    lane_setups,
    open_journal,
    snapshot_store,
    standalone_clearance,
)
from controller.config.camera import listener_settings
from controller.config.models import GatewayConfig, LaneConfig
from controller.console.serve import console_app, server_options
from controller.runtime.gateway import Gateway
from controller.runtime.metrics import GatewayMetrics
from devices.transport.modbus import ModbusLinks
from emulators.lane import EmulatedLane
from simulation.emulation import spec_from_config

Overrides = dict[str, object]


def leaf_paths(model: type[BaseModel], prefix: str = "") -> Iterator[str]:
    """Dotted paths of every leaf field (nested models descended, lists as [0])."""
    for name, info in model.model_fields.items():
        path, kind = f"{prefix}{name}", info.annotation
        inner = _model_in(kind)
        if inner is not None:
            yield from leaf_paths(inner, f"{path}.")
        elif get_origin(kind) is list and (item := _model_in(get_args(kind)[0])) is not None:
            yield from leaf_paths(item, f"{path}[0].")
        else:
            yield path


def _model_in(kind: Any) -> type[BaseModel] | None:
    candidates = [kind, *get_args(kind)] if get_origin(kind) is not list else []
    for candidate in candidates:
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def base_config(tmp: Path) -> dict[str, Any]:
    """Real-device URLs: their transports open lazily, so building touches no device."""
    return {
        "site": "site-1",
        "gateway": "gw-1",
        "journal": str(tmp / "journal.db"),
        "socket": str(tmp / "gatectl.sock"),
        "lanes": [
            {
                "id": "L01",
                "io": {"url": "modbus-tcp://127.0.0.1:15020"},
                "entry_barrier": {"url": "modbus-rtu:///dev/ttyUSB0?baud=38400", "unit": 1},
                "exit_barrier": {"url": "modbus-rtu:///dev/ttyUSB0?baud=38400", "unit": 2},
                "scale": {"url": "serial:///dev/ttyS1?baud=9600"},
                "rfid": {"url": "serial:///dev/ttyUSB1?baud=57600"},
                "wiring": {
                    "inputs": {
                        "approach_loop": 0,
                        "entry_arm_loop": 1,
                        "beam_in": 2,
                        "beam_out": 3,
                        "exit_arm_loop": 4,
                    },
                    "outputs": {"entry_red": 0, "entry_green": 1, "exit_red": 2, "exit_green": 3},
                },
            }
        ],
    }


def _set(tree: dict[str, Any], path: str, value: object) -> None:
    parts = path.replace("[0]", ".0").split(".")
    node: Any = tree
    for part in parts[:-1]:
        node = node[int(part)] if part.isdigit() else node.setdefault(part, {})
    node[parts[-1]] = value


def fingerprint(obj: object, depth: int = 5) -> object:
    """What an object holds, as plain data: its settings, not its identity."""
    if isinstance(obj, str | int | float | bool | bytes | type(None) | Path):
        return obj
    if isinstance(obj, dict):
        return tuple(sorted((repr(k), fingerprint(v, depth)) for k, v in obj.items()))
    if isinstance(obj, list | tuple | set | frozenset):
        items = [fingerprint(v, depth) for v in obj]
        return tuple(sorted(items, key=repr) if isinstance(obj, set | frozenset) else items)
    if depth == 0 or (callable(obj) and not hasattr(obj, "__dict__")):
        return type(obj).__name__
    names = list(getattr(obj, "__dict__", {})) + [
        n for c in type(obj).__mro__ for n in getattr(c, "__slots__", ())
    ]
    return (
        type(obj).__name__,
        tuple(
            (n, fingerprint(getattr(obj, n), depth - 1))
            for n in sorted(set(names))
            if hasattr(obj, n) and not callable(getattr(obj, n))
        ),
    )


# ---------------------------------------------------------------- what each setting builds
async def controller_lane(config: GatewayConfig, _tmp: Path) -> object:
    links = ModbusLinks(timeout_s=0.3)
    try:
        return fingerprint(await lane_setups(config, links))
    finally:
        await links.close()


async def emulated_lane(config: GatewayConfig, _tmp: Path) -> object:
    lane = EmulatedLane(spec_from_config(config.lanes[0]))
    world = lane.world
    return fingerprint(
        (
            world.geo,
            world.phys,
            lane.barriers,
            lane.scale,
            lane.rfid,
            lane.scale_port.frame_period_s,
            lane.rtu_line(38400),
            lane.spec.time_scale,  # the clock serve() starts
            lane.spec.clearance_median_s,  # the emulated central (demo, simulate)
        )
    )


async def server(config: GatewayConfig, tmp: Path) -> object:
    built = _server(config, Gateway([]), audit_log(config), 1)
    return fingerprint((built.path, built.roles, built.audit.path, built.console_group))


async def console(config: GatewayConfig, _tmp: Path) -> object:
    app: Any = console_app(config.console, config.socket)
    state = app.app.state.console
    served = (state.gateway.path, state.users.path, state.sessions.ttl_s)
    return fingerprint((server_options(config.console), served))


async def journal(config: GatewayConfig, _tmp: Path) -> object:
    opened = await open_journal(config)
    try:
        return fingerprint((opened.path, opened.limits))
    finally:
        await opened.close()


async def bridge(config: GatewayConfig, tmp: Path) -> object:
    opened = await open_journal(config)
    try:
        built = _bridge(config, opened, audit_log(config))
        verifier = built.reception.verifier
        keys = {k: _raw(v) for k, v in verifier.keys.items()}
        assert config.mqtt is not None
        return fingerprint(
            (built.site, built.gateway, broker_settings(config.mqtt), keys, verifier.max_skew_s)
        )
    finally:
        await opened.close()


async def metrics_endpoint(config: GatewayConfig, _tmp: Path) -> object:
    """Where the exporter `gatectl run` starts really listens (it answers a scrape)."""
    assert config.metrics is not None
    serve = await GatewayMetrics([]).bound(config.metrics.host, config.metrics.port)
    task = asyncio.create_task(serve())
    try:
        reader, writer = await asyncio.open_connection(config.metrics.host, config.metrics.port)
        writer.write(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        status = (await reader.readline()).decode().strip()
        writer.close()
        return (config.metrics.port, status)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _metrics(_tmp: Path, tree: dict[str, Any]) -> None:
    tree["metrics"] = {"listen": f"127.0.0.1:{_free_port()}"}


async def locks(config: GatewayConfig, _tmp: Path) -> object:
    held = claim(config)
    try:
        return fingerprint(sorted(str(lock.path) for lock in held.locks))
    finally:
        held.release()


async def standalone(config: GatewayConfig, tmp: Path) -> object:
    opened = await open_journal(config)
    try:
        built = await standalone_clearance(config, opened, audit_log(config))
        decision = built.central.lookup("E28011000000000000000001", None)
        return fingerprint((decision, built.reception.verifier.max_skew_s))
    finally:
        await opened.close()


async def camera_listener(config: GatewayConfig, _tmp: Path) -> object:
    camera = config.lanes[0].camera
    assert camera is not None
    return fingerprint(listener_settings(camera))


async def snapshots(config: GatewayConfig, _tmp: Path) -> object:
    store = snapshot_store(config)
    try:
        return fingerprint((store.dir, store.limits))
    finally:
        await store.close()


def _camera(tmp: Path, tree: dict[str, Any]) -> None:
    for name in ("entry", "exit", "other"):
        (tmp / f"{name}.secret").write_text(f"{name}-secret-0123456789\n")
    tree["lanes"][0]["camera"] = {
        "listen": "127.0.0.1:18080",
        "entry": {"id": "L01-entry", "secret_file": str(tmp / "entry.secret")},
        "exit": {"id": "L01-exit", "secret_file": str(tmp / "exit.secret")},
    }


def _raw(key: Any) -> bytes:
    return bytes(key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))


def _const(value: object) -> Callable[[Path], object]:
    return lambda _tmp: value


Build = Callable[[GatewayConfig, Path], Any]
LANE = "lanes[0]."


def _mqtt(tmp: Path, tree: dict[str, Any]) -> None:
    signer = Signer.generate("central-1")
    key = tmp / "central-1.pub"
    key.write_bytes(
        signer.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    tree["mqtt"] = {"url": "mqtt://127.0.0.1:1883"}
    tree["clearance"] = {"verify_keys": {"central-1": str(key)}}


def _manifest(tmp: Path, tree: dict[str, Any]) -> None:
    path = tmp / "manifest.yaml"
    path.write_text("E28011000000000000000001: {decision: grant, declared_gross_kg: 30000}\n")
    tree["clearance"] = {"manifest": str(path)}


def _tls(tmp: Path, tree: dict[str, Any]) -> None:
    tree["console"] = {"tls_cert": str(tmp / "console.crt"), "tls_key": str(tmp / "console.key")}


def _files(tmp: Path) -> dict[str, object]:
    (tmp / "pw").write_text("secret\n")
    (tmp / "ca.pem").write_text("ca\n")
    other = Signer.generate("central-2")
    (tmp / "other.pub").write_bytes(
        other.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    (tmp / "other.yaml").write_text("E28011000000000000000001: {decision: deny}\n")
    return {}


# path -> (non-default value, the build that must show it, how the base is prepared)
Prep = Callable[[Path, dict[str, Any]], None] | None
PROBES: dict[str, tuple[Callable[[Path], object], Build, Prep]] = {
    "site": (lambda t: "site-2", bridge, _mqtt),
    "gateway": (lambda t: "gw-2", bridge, _mqtt),
    "journal": (lambda t: str(t / "other.db"), journal, None),
    "socket": (lambda t: str(t / "other.sock"), server, None),
    "lock_dir": (lambda t: str(t / "locks"), locks, None),
    "audit_log": (lambda t: str(t / "audit.log"), server, None),
    "roles.viewer": (lambda t: "viewers", server, None),
    "roles.technician": (lambda t: "techs", server, None),
    "roles.officer": (lambda t: "officers", server, None),
    "roles.console": (lambda t: "consoles", server, None),
    "console.listen": (lambda t: "127.0.0.2:9443", console, None),
    "console.users_file": (lambda t: str(t / "users.json"), console, None),
    "console.tls_cert": (lambda t: str(t / "other.crt"), console, _tls),
    "console.tls_key": (lambda t: str(t / "other.key"), console, _tls),
    "console.session_minutes": (lambda t: 10, console, None),
    "mqtt.url": (lambda t: "mqtts://broker.example:8883", bridge, _mqtt),
    "mqtt.username": (lambda t: "gw-1", bridge, _mqtt),
    "mqtt.password_file": (lambda t: str(t / "pw"), bridge, _mqtt),
    "mqtt.ca_file": (lambda t: str(t / "ca.pem"), bridge, _mqtt),
    "mqtt.keepalive_s": (lambda t: 60, bridge, _mqtt),
    "clearance.verify_keys": (lambda t: {"central-2": str(t / "other.pub")}, bridge, _mqtt),
    "clearance.timeout_s": (lambda t: 20, controller_lane, None),
    "clearance.max_clock_skew_s": (lambda t: 5, standalone, _manifest),
    "clearance.manifest": (lambda t: str(t / "other.yaml"), standalone, _manifest),
    "retention.max_age_days": (lambda t: 30, journal, None),
    "retention.max_mb": (lambda t: 2048, journal, None),
    "retention.admission_limit_mb": (lambda t: 800, journal, None),
    f"{LANE}id": (lambda t: "L02", controller_lane, None),
    f"{LANE}io.url": (lambda t: "modbus-tcp://127.0.0.1:15021", controller_lane, None),
    f"{LANE}io.unit": (lambda t: 3, controller_lane, None),
    f"{LANE}io.poll_ms": (lambda t: 40, controller_lane, None),
    f"{LANE}io.watchdog_ms": (lambda t: 400, controller_lane, None),
    f"{LANE}io.fresh_ms": (lambda t: 300, controller_lane, None),
    f"{LANE}entry_barrier.url": (
        lambda t: "modbus-rtu:///dev/ttyUSB2?baud=38400",
        controller_lane,
        None,
    ),
    f"{LANE}entry_barrier.unit": (lambda t: 5, controller_lane, None),
    f"{LANE}entry_barrier.poll_ms": (lambda t: 80, controller_lane, None),
    f"{LANE}entry_barrier.fresh_ms": (lambda t: 600, controller_lane, None),
    f"{LANE}exit_barrier.url": (
        lambda t: "modbus-rtu:///dev/ttyUSB2?baud=38400",
        controller_lane,
        None,
    ),
    f"{LANE}exit_barrier.unit": (lambda t: 6, controller_lane, None),
    f"{LANE}exit_barrier.poll_ms": (lambda t: 80, controller_lane, None),
    f"{LANE}exit_barrier.fresh_ms": (lambda t: 600, controller_lane, None),
    f"{LANE}scale.url": (lambda t: "serial:///dev/ttyS2?baud=9600", controller_lane, None),
    f"{LANE}scale.protocol": (lambda t: "sma", controller_lane, None),
    f"{LANE}scale.fresh_ms": (lambda t: 700, controller_lane, None),
    f"{LANE}rfid.url": (lambda t: "serial:///dev/ttyUSB3?baud=57600", controller_lane, None),
    f"{LANE}rfid.address": (lambda t: 7, controller_lane, None),
    f"{LANE}rfid.poll_ms": (lambda t: 150, controller_lane, None),
    f"{LANE}rfid.debounce_s": (lambda t: 3, controller_lane, None),
    f"{LANE}rfid.fresh_ms": (lambda t: 1500, controller_lane, None),
    f"{LANE}wiring.inputs": (
        lambda t: {
            "approach_loop": 9,
            "entry_arm_loop": 1,
            "beam_in": 2,
            "beam_out": 3,
            "exit_arm_loop": 4,
        },
        controller_lane,
        None,
    ),
    f"{LANE}wiring.outputs": (
        lambda t: {"entry_red": 8, "entry_green": 1, "exit_red": 2, "exit_green": 3},
        controller_lane,
        None,
    ),
    **{
        f"{LANE}weighing.{name}": (_const(value), controller_lane, None)
        for name, value in {
            "empty_kg": 250,
            "on_deck_kg": 1200,
            "zero_band_kg": 25,
            "zero_capture_kg": 400,
            "stable_band_kg": 30,
            "stable_window_s": 1.5,
            "tolerance_kg": 400,
            "max_gross_kg": 55_000,
        }.items()
    },
    **{
        f"{LANE}timing.{name}": (_const(value), controller_lane, None)
        for name, value in {
            "safe_ms": 200,
            "latch_ms": 4000,
            "field_check_ms": 800,
            "stroke_timeout_s": 9,
            "clear_hold_ms": 1500,
            "position_timeout_s": 50,
            "stall_alarm_s": 100,
        }.items()
    },
    **{
        f"{LANE}emulation.{name}": (_const(value), emulated_lane, None)
        for name, value in {
            "time_scale": 4.0,
            "barrier_travel_s": 4.0,
            "loop_response_ms": 60.0,
            "rfid_range_m": 6.0,
            "rfid_first_read_s": 0.8,
            "truck_speed_kmh": 12.0,
            "driver_reaction_s": 1.5,
            "deck_length_m": 20.0,
            "scale_settle_s": 2.0,
            "scale_noise_kg": 8.0,
            "scale_frame_hz": 5.0,
            "clearance_median_s": 4.0,
            "rtu_turnaround_ms": 3.0,
        }.items()
    },
}
CAMERA = f"{LANE}camera."
PROBES.update(
    {
        f"{CAMERA}{name}": (value, camera_listener, _camera)
        for name, value in {
            "listen": _const("10.0.1.5:18081"),
            "path": _const("/anpr"),
            "max_body_kb": _const(128),
            "queue_size": _const(16),
            "header_timeout_s": _const(5.0),
            "entry.id": _const("L01-in"),
            "entry.secret_file": lambda t: str(t / "other.secret"),
            "entry.allow_from": _const(["10.0.1.31"]),
            "exit.id": _const("L01-out"),
            "exit.secret_file": lambda t: str(t / "other.secret"),
            "exit.allow_from": _const(["10.0.1.32"]),
        }.items()
    }
)
# the core's cross-check of the tag against the plate: LaneParams.camera
PROBES.update(
    {
        f"{CAMERA}{name}": (_const(value), controller_lane, _camera)
        for name, value in {
            "min_confidence": 0.9,
            "plate_wait_ms": 2000,
            "early_read_s": 20.0,
            "missing_alarm_after": 5,
        }.items()
    }
)
PROBES.update(
    {
        "snapshots.dir": (lambda t: str(t / "pictures"), snapshots, None),
        "snapshots.max_age_days": (_const(30), snapshots, None),
        "snapshots.max_mb": (_const(512), snapshots, None),
    }
)
# scale.poll_ms sets the SMA request period: probed against an SMA base
SMA = f"{LANE}scale.protocol"


def _sma(_tmp: Path, tree: dict[str, Any]) -> None:
    _set(tree, SMA, "sma")


PROBES[f"{LANE}scale.poll_ms"] = (lambda t: 250, controller_lane, _sma)
PROBES["metrics.listen"] = (lambda t: f"127.0.0.1:{_free_port()}", metrics_endpoint, _metrics)


def test_every_field_has_a_probe() -> None:
    fields = set(leaf_paths(GatewayConfig))
    assert fields - PROBES.keys() == set(), "a config field nothing checks acts"
    assert PROBES.keys() - fields == set(), "a probe for a field that is gone"


def _config(tree: dict[str, Any]) -> GatewayConfig:
    return GatewayConfig.model_validate(tree)


@pytest.mark.parametrize("path", sorted(PROBES))
async def test_a_non_default_value_reaches_what_it_configures(path: str, tmp_path: Path) -> None:
    value, build, prepare = PROBES[path]
    _files(tmp_path)
    tree = base_config(tmp_path)
    if prepare is not None:
        prepare(tmp_path, tree)
    changed = copy.deepcopy(tree)
    _set(changed, path, value(tmp_path))
    default_config, changed_config = _config(tree), _config(changed)
    assert _at(changed_config, path) != _at(default_config, path), "the probe sets no new value"
    default = await build(default_config, tmp_path)
    assert await build(_config(tree), tmp_path) == default, "the build is not deterministic"
    assert await build(changed_config, tmp_path) != default, f"{path} changes nothing it builds"


def _at(config: BaseModel, path: str) -> object:
    node: Any = config
    for part in path.replace("[0]", ".0").split("."):
        node = node[int(part)] if part.isdigit() else getattr(node, part)
    return node


def test_a_toledo_scale_takes_no_poll_period(tmp_path: Path) -> None:
    tree = base_config(tmp_path)
    _set(tree, f"{LANE}scale.poll_ms", 100)
    with pytest.raises(ValueError, match="poll_ms: a Toledo indicator streams"):
        LaneConfig.model_validate(tree["lanes"][0])
