"""Loading the config: YAML in, a validated `GatewayConfig` out, or one clear error.

Every error names the dotted path of the bad field (`lanes[0].io.poll_ms: ...`) and says
why, one line each; a YAML syntax error names the file and line. Relative paths resolve
against the config file's directory. Cross-lane checks (DESIGN 5.5): devices on one
RS-485 bus agree on line settings and do not share a unit id; a serial port and an I/O
endpoint+unit are used once.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from controller.config.models import GatewayConfig
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
    update: dict[str, object] = {"clearance": clearance, "console": console}
    for name in ("journal", "socket", "audit_log"):
        value = getattr(config, name)
        if value is not None and not value.is_absolute():
            update[name] = base / value
    return config.model_copy(update=update)


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
                except ConfigError as error:
                    raise ConfigError(f"{where}.{name}", str(error)) from None
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
