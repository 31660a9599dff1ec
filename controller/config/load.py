"""Loading the config: YAML in, a validated `GatewayConfig` out, or one clear error.

Every error names the dotted path of the bad field (`lanes[0].io.poll_ms: ...`) and says
why, one line each; a YAML syntax error names the file and line. Relative paths resolve
against the config file's directory. `check_files` (for `config check` and `run`) says
which named file is missing or unreadable. Cross-lane checks (DESIGN 5.5): devices on one
RS-485 bus agree on line settings and do not share a unit id; a serial port and an I/O
endpoint+unit are used once.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from controller.config.models import GatewayConfig, LaneConfig
from controller.errors import ConfigError
from devices.transport.modbus import ModbusLinks
from devices.transport.url import ModbusRtuUrl, ModbusTcpUrl, SerialUrl, parse_url


def load_config(path: Path | str) -> GatewayConfig:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError("", f"{path}: cannot read ({error.strerror or error})") from None
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        raise ConfigError(
            "", f"{where}: not valid YAML ({getattr(error, 'problem', error)})"
        ) from None
    if not isinstance(document, dict):
        raise ConfigError("", f"{path}: the document must be a mapping of settings")
    config = validate(document)
    config = _resolved(config, path.parent)
    check_buses(config)
    return config


def validate(document: dict[str, Any]) -> GatewayConfig:
    try:
        return GatewayConfig.model_validate(document)
    except ValidationError as error:
        lines = [_line(e) for e in error.errors()]
        failure = ConfigError("", "\n".join(lines))  # each line names its own path
        failure.path = lines[0].split(":", 1)[0]
        raise failure from None


def _line(error: Any) -> str:
    path = ""
    for part in error["loc"]:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        message = "unknown field"
    return f"{path or 'config'}: {message}"


def _resolved(config: GatewayConfig, base: Path) -> GatewayConfig:
    def fix(p: Path | None) -> Path | None:
        return None if p is None or p.is_absolute() else base / p

    clearance = config.clearance.model_copy(
        update={
            "verify_keys": {k: fix(v) or v for k, v in config.clearance.verify_keys.items()},
            "manifest": fix(config.clearance.manifest) or config.clearance.manifest,
        }
    )
    console = config.console.model_copy(
        update={
            name: fix(getattr(config.console, name)) or getattr(config.console, name)
            for name in ("users_file", "tls_cert", "tls_key")
        }
    )
    update: dict[str, object] = {
        "clearance": clearance,
        "console": console,
        "lanes": _cameras_resolved(config, fix),
    }
    if config.mqtt is not None:
        mqtt = config.mqtt
        secrets = {"password_file": fix(mqtt.password_file), "ca_file": fix(mqtt.ca_file)}
        update["mqtt"] = mqtt.model_copy(update={k: v for k, v in secrets.items() if v})
    for name in ("journal", "socket", "audit_log", "lock_dir"):
        value = getattr(config, name)
        if value is not None and not value.is_absolute():
            update[name] = base / value
    if (snapshots := fix(config.snapshots.dir)) is not None:
        update["snapshots"] = config.snapshots.model_copy(update={"dir": snapshots})
    return config.model_copy(update=update)


def check_files(config: GatewayConfig) -> None:
    """The files a config names for `run` (manifest, keys, broker secrets) exist and can
    be read; one line per missing file, naming its field."""
    named: list[tuple[str, Path | None]] = [("clearance.manifest", config.clearance.manifest)]
    named += [(f"clearance.verify_keys.{k}", p) for k, p in config.clearance.verify_keys.items()]
    if config.mqtt is not None:
        named += [("mqtt.password_file", config.mqtt.password_file)]
        named += [("mqtt.ca_file", config.mqtt.ca_file)]
    lines = [
        f"{field}: {path}: {problem}"
        for field, path in named
        if path is not None and (problem := _unreadable(path)) is not None
    ]
    if lines:
        failure = ConfigError("", "\n".join(lines))
        failure.path = lines[0].split(":", 1)[0]
        raise failure


def _unreadable(path: Path) -> str | None:
    if not path.is_file():
        return "no such file" if not path.exists() else "not a file"
    return None if os.access(path, os.R_OK) else "not readable by this user"


def _cameras_resolved(
    config: GatewayConfig, fix: Callable[[Path | None], Path | None]
) -> list[LaneConfig]:
    """The cameras' secret files, relative to the config file like every other path."""
    return [_camera_resolved(lane, fix) for lane in config.lanes]


def _camera_resolved(lane: LaneConfig, fix: Callable[[Path | None], Path | None]) -> LaneConfig:
    camera = lane.camera
    if camera is None:
        return lane
    sides = {
        name: side.model_copy(update={"secret_file": fix(side.secret_file) or side.secret_file})
        for name, side in (("entry", camera.entry), ("exit", camera.exit))
        if side is not None
    }
    return lane.model_copy(update={"camera": camera.model_copy(update=sides)})


def check_buses(config: GatewayConfig) -> None:
    links = ModbusLinks()
    serial_ports: dict[str, str] = {}
    for index, lane in enumerate(config.lanes):
        where = f"lanes[{index}]"
        for name, device, unit in (
            ("io", lane.io, lane.io.unit),
            ("entry_barrier", lane.entry_barrier, lane.entry_barrier.unit),
            ("exit_barrier", lane.exit_barrier, lane.exit_barrier.unit),
        ):
            parsed = parse_url(device.url)
            if isinstance(parsed, ModbusTcpUrl | ModbusRtuUrl):
                try:
                    links.link(parsed, unit)
                except ConfigError as error:  # names the field: .unit or .url
                    message = str(error).removeprefix(f"{error.path}: ")
                    raise ConfigError(f"{where}.{name}.{error.path}", message) from None
        for name, url in (("scale", lane.scale.url), ("rfid", lane.rfid.url)):
            parsed = parse_url(url)
            if isinstance(parsed, SerialUrl):
                port = os.path.realpath(parsed.path)
                if port in serial_ports:
                    raise ConfigError(
                        f"{where}.{name}",
                        f"{where}.{name}: port {parsed.path} "
                        f"is already used by {serial_ports[port]}",
                    )
                serial_ports[port] = f"{where}.{name}"
