"""`gatectl diag`: one device straight from the gateway, for commissioning and fault
finding (Modbus read/write/scan, scale frames, RFID inventory, serial sniff and probe).

Refused, with one line naming the controller's pid, while a running controller owns the
endpoint (diag_guard's lock convention): a second master on the line garbles both, and a
write behind the controller would bypass its interlocks. Unless the endpoint's lane is in
maintenance: then `diag modbus read|write` goes through the controller (diag_through.py),
and a write is the operator command it stands for, judged by the interlock.
Exit codes: 0 ok, 1 refused, 2 usage, 3 unreachable, 4 device error.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable, Coroutine
from functools import partial
from pathlib import Path
from typing import Any

import typer

from controller.cli import diag_modbus as mb
from controller.cli import diag_through
from controller.cli.diag_guard import DEFAULT_LOCK_DIR, refusal
from controller.cli.diag_probe import PROTOCOLS, probe
from controller.cli.diag_serial import open_port, query_rfid, serial_url, sniff, watch_scale
from controller.config.load import load_config
from controller.errors import ConfigError, DeviceError
from devices.transport.base import table_reader
from devices.transport.serial import SerialStream
from devices.transport.url import ModbusTcpUrl

REFUSED, USAGE = 1, 2
diag_app = typer.Typer(help="Talk to one device directly (commissioning, fault finding).",
                       no_args_is_help=True)  # fmt: skip
modbus_app = typer.Typer(help="Modbus TCP and RTU devices.", no_args_is_help=True)
serial_app = typer.Typer(help="Serial lines: sniff and probe.", no_args_is_help=True)
diag_app.add_typer(modbus_app, name="modbus")
diag_app.add_typer(serial_app, name="serial")

CONFIG = typer.Option(
    None, "--config", "-c", envvar="GATEBRIDGE_CONFIG", help="Gateway config: locks, lanes, socket."
)
LOCK_DIR = typer.Option(None, "--lock-dir", help="Where the endpoint locks are.")
JSON = typer.Option(False, "--json", help="Machine-readable output.")
UNIT = typer.Option(1, "--unit", "-u", min=0, max=247, help="Modbus unit id.")
TIMEOUT = typer.Option(1.0, "--timeout", min=0.01, max=30.0, help="Seconds per request.")
PORT = typer.Argument(..., help="Device path or serial:// URL with line options.")


def _fail(message: str, code: int) -> int:
    print(f"error: {message}", file=sys.stderr)
    return code


def _guarded(
    target: Callable[[], str],
    config: Path | None,
    lock_dir: Path | None,
    job: Callable[[], Coroutine[Any, Any, int]],
    through: diag_through.Through | None = None,
) -> None:
    """Run `job` unless a controller owns the endpoint of the URL `target` names; then
    `through` the controller if it can (its exit code), else refused. Every error in one
    line, with its exit code."""
    # pymodbus logs each timeout and frame dump itself; diag reports them in its own words
    logging.getLogger("pymodbus").setLevel(logging.CRITICAL)
    try:
        settings = None if config is None else load_config(config)
        directory = lock_dir or (settings.locks if settings else DEFAULT_LOCK_DIR)
        refused = refusal(target(), settings, directory, through=through is not None)
        if refused is not None:
            code = None if through is None else through(settings)
            raise typer.Exit(_fail(f"refused: {refused}", REFUSED) if code is None else code)
        raise typer.Exit(asyncio.run(job()))
    except (mb.UsageError, ConfigError) as error:
        raise typer.Exit(_fail(str(error).splitlines()[0], USAGE)) from None
    except DeviceError as error:
        raise typer.Exit(_fail(str(error), mb.exit_code(error))) from None
    except KeyboardInterrupt:
        raise typer.Exit(0) from None


def _modbus_target(url: str) -> Callable[[], str]:
    def target() -> str:
        parsed = mb.modbus_url(url)
        if isinstance(parsed, ModbusTcpUrl):
            return f"modbus-tcp://{parsed.host}:{parsed.port}"
        return f"modbus-rtu://{parsed.path}"

    return target


@modbus_app.command("read")
def modbus_read(
    url: str = typer.Argument(..., help="tcp://HOST:PORT or rtu:///dev/PORT?baud=..&parity=.."),
    unit: int = UNIT,
    table: str = typer.Option(..., "--table", "-t", help="coils, discrete, holding or input."),
    address: int = typer.Option(0, "--address", "-a", min=0, max=65535, help="0-based."),
    count: int = typer.Option(1, "--count", "-n", min=1, max=2000),
    as_json: bool = JSON,
    timeout: float = TIMEOUT,
    config: Path | None = CONFIG,
    lock_dir: Path | None = LOCK_DIR,
) -> None:
    """Read coils, discrete inputs, holding or input registers (0-based, as mbpoll -0)."""
    job = partial(_read, url, unit, table, address, count, as_json, timeout)
    go = partial(diag_through.read, table=table, address=address, count=count, as_json=as_json)
    _guarded(
        _modbus_target(url), config, lock_dir, job, diag_through.via(_modbus_target(url), unit, go)
    )


async def _read(
    url: str, unit: int, table: str, address: int, count: int, as_json: bool, timeout_s: float
) -> int:
    mb.check_range(table, address, count, mb.MAX_COUNT)
    link = mb.open_link(mb.modbus_url(url), timeout_s)
    frames = mb.Frames()
    try:
        values = await frames.count(table_reader(link.unit(unit), table)(address, count))
    except DeviceError as error:
        return _device_failed(link.name, unit, frames, error, as_json)
    finally:
        await link.close()
    numbers = [int(v) for v in values]
    if as_json:
        print(mb.json_report(link.name, unit, frames, table=table, address=address, values=numbers))
        return mb.OK
    print(f"-- {link.name} unit {unit} {table} {address}..{address + count - 1}")
    print("\n".join(mb.value_rows(table, address, numbers)))
    print(frames)
    return mb.OK


def _device_failed(
    name: str, unit: int, frames: mb.Frames, error: DeviceError, as_json: bool
) -> int:
    print(f"error: {error}", file=sys.stderr)
    if as_json:
        print(mb.json_report(name, unit, frames, error=str(error)))
    else:
        print(frames)
    return mb.exit_code(error)


@modbus_app.command("write")
def modbus_write(
    url: str = typer.Argument(..., help="tcp://HOST:PORT or rtu:///dev/PORT?baud=..&parity=.."),
    values: list[str] = typer.Argument(..., help="Values: 0/1 for coils, 0..65535 (or 0x..)."),
    unit: int = UNIT,
    table: str = typer.Option(..., "--table", "-t", help="coils or holding."),
    address: int = typer.Option(0, "--address", "-a", min=0, max=65535, help="0-based."),
    as_json: bool = JSON,
    timeout: float = TIMEOUT,
    config: Path | None = CONFIG,
    lock_dir: Path | None = LOCK_DIR,
) -> None:
    """Write coils (FC5/FC15) or holding registers (FC6/FC16)."""
    job = partial(_write, url, unit, table, address, values, as_json, timeout)
    go = partial(diag_through.write, table=table, address=address, texts=values, as_json=as_json)
    _guarded(
        _modbus_target(url), config, lock_dir, job, diag_through.via(_modbus_target(url), unit, go)
    )


async def _write(
    url: str, unit: int, table: str, address: int, texts: list[str], as_json: bool, timeout_s: float
) -> int:
    numbers = mb.parse_values(table, texts)
    mb.check_range(table, address, len(numbers), mb.MAX_WRITE)
    link = mb.open_link(mb.modbus_url(url), timeout_s)
    frames = mb.Frames()
    try:
        await frames.count(mb.write(link.unit(unit), table, address, numbers))
    except DeviceError as error:
        return _device_failed(link.name, unit, frames, error, as_json)
    finally:
        await link.close()
    if as_json:
        print(
            mb.json_report(link.name, unit, frames, table=table, address=address, written=numbers)
        )
        return mb.OK
    print(f"-- {link.name} unit {unit} {table}: written {len(numbers)} at {address}")
    print(frames)
    return mb.OK


@modbus_app.command("scan")
def modbus_scan(
    url: str = typer.Argument(..., help="rtu:///dev/PORT?baud=..&parity=.. (or tcp://)."),
    units: str = typer.Option("1-247", "--units", help="Unit ids: 1-247, 1,2,5-9."),
    timeout: float = typer.Option(0.1, "--timeout", min=0.01, max=5.0, help="Seconds per id."),
    as_json: bool = JSON,
    config: Path | None = CONFIG,
    lock_dir: Path | None = LOCK_DIR,
) -> None:
    """Which unit ids answer on a bus (a read of holding 0; an exception reply counts)."""
    job = partial(_scan, url, units, timeout, as_json)
    _guarded(_modbus_target(url), config, lock_dir, job)


async def _scan(url: str, units: str, timeout_s: float, as_json: bool) -> int:
    ids = mb.parse_units(units)
    link = mb.open_link(mb.modbus_url(url), timeout_s)
    frames, found = mb.Frames(), {}
    try:
        for unit in ids:
            answer = await mb.probe_unit(link, unit, frames)
            if answer is not None:
                found[unit] = answer
                if not as_json:
                    print(f"unit {unit:>3}: {answer}", flush=True)
    except DeviceError as error:
        return _device_failed(link.name, 0, frames, error, as_json)
    finally:
        await link.close()
    code = mb.OK if found else mb.DEVICE_ERROR
    if as_json:
        answering = [{"unit": u, "answer": a} for u, a in found.items()]
        print(mb.json_report(link.name, 0, frames, scanned=ids, answering=answering))
        return code
    print(f"-- {link.name}: {len(found)} of {len(ids)} unit id(s) answer: "
          f"{', '.join(map(str, found)) or 'none'}")  # fmt: skip
    print(frames)
    return code


def _serial_target(port: str, protocol: str) -> Callable[[], str]:
    def target() -> str:
        return f"serial://{serial_url(port, protocol).path}"

    return target


async def _on_port(port: str, protocol: str, use: Callable[[SerialStream], Awaitable[int]]) -> int:
    stream = await open_port(serial_url(port, protocol))
    try:
        return await use(stream)
    finally:
        await stream.close()


@diag_app.command("scale")
def scale(
    port: str = PORT,
    protocol: str = typer.Option("toledo", "--protocol", "-p", help="toledo or sma."),
    count: int = typer.Option(0, "--count", "-n", min=0, help="Stop after N frames (0: never)."),
    as_json: bool = JSON,
    config: Path | None = CONFIG,
    lock_dir: Path | None = LOCK_DIR,
) -> None:
    """Decoded weight frames live, with the indicator's status bits."""
    if protocol not in ("toledo", "sma"):
        raise typer.Exit(_fail(f"--protocol: {protocol!r} is not toledo or sma", USAGE))
    job = partial(_on_port, port, protocol, lambda s: watch_scale(s, protocol, count, as_json))
    _guarded(_serial_target(port, protocol), config, lock_dir, job)


@diag_app.command("rfid")
def rfid(
    port: str = PORT,
    address: int = typer.Option(0, "--address", min=0, max=255, help="Reader address (255 all)."),
    count: int = typer.Option(1, "--count", "-n", min=1, max=10_000, help="Inventory rounds."),
    interval: float = typer.Option(0.5, "--interval", min=0.0, max=60.0, help="Between rounds."),
    as_json: bool = JSON,
    config: Path | None = CONFIG,
    lock_dir: Path | None = LOCK_DIR,
) -> None:
    """Reader info, then inventories: the tags in the field."""
    job = partial(
        _on_port, port, "rfid", lambda s: query_rfid(s, address, count, interval, as_json)
    )
    _guarded(_serial_target(port, "rfid"), config, lock_dir, job)


@serial_app.command("sniff")
def serial_sniff(
    port: str = PORT,
    protocol: str = typer.Option("auto", "--protocol", "-p", help="auto, toledo, sma, rfid, raw."),
    count: int = typer.Option(0, "--count", "-n", min=0, help="Stop after N frames (0: never)."),
    as_json: bool = JSON,
    config: Path | None = CONFIG,
    lock_dir: Path | None = LOCK_DIR,
) -> None:
    """What arrives on a line: hex and decoded frames, with timestamps (listen only)."""
    if protocol not in ("auto", "toledo", "sma", "rfid", "raw"):
        raise typer.Exit(_fail(f"--protocol: {protocol!r} is not auto/toledo/sma/rfid/raw", USAGE))
    job = partial(_on_port, port, protocol, lambda s: sniff(s, protocol, count, as_json))
    _guarded(_serial_target(port, protocol), config, lock_dir, job)


@serial_app.command("probe")
def serial_probe(
    port: str = typer.Argument(..., help="Device path (the settings are the probe's)."),
    protocol: str = typer.Option("auto", "--protocol", "-p", help="auto/toledo/sma/rfid/modbus."),
    unit: int = typer.Option(1, "--unit", "-u", min=1, max=247, help="Modbus unit to ask."),
    listen: float = typer.Option(0.5, "--listen", min=0.05, max=10.0, help="Seconds per try."),
    as_json: bool = JSON,
    config: Path | None = CONFIG,
    lock_dir: Path | None = LOCK_DIR,
) -> None:
    """Try the common baud/parity/framing settings; report which gives valid frames."""
    if protocol not in PROTOCOLS:
        raise typer.Exit(
            _fail(f"--protocol: {protocol!r} is not one of {', '.join(PROTOCOLS)}", USAGE)
        )
    path = serial_url(port, "auto").path if "://" in port else port
    job = partial(probe, path, protocol, unit, listen, as_json)
    _guarded(_serial_target(port, "auto"), config, lock_dir, job)
