"""`gatectl diag modbus read|write` through the controller, while its lane is in
maintenance (the controller owns the endpoint, so diag may not talk to it directly).

diag finds the lane and device of the URL and unit in the config, asks the socket's
status whether that lane is in maintenance, and only then sends a `diag` request; the
controller reads on the lane's own link, or maps a write to the operator command it
stands for and lets the interlock judge it (controller/runtime/passthrough.py). The
output is a direct read's table or --json, with the route noted; exit codes as the
socket's answers: 0 ok, 1 refused, 2 usage, 3 unreachable, 4 device error.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass

from controller.cli import diag_modbus as mb
from controller.cli.client import EXIT_REFUSED, ClientError, exit_code, request
from controller.cli.diag_guard import endpoint_key
from controller.config.models import GatewayConfig

MODBUS_DEVICES = ("io", "entry_barrier", "exit_barrier")
Through = Callable[[GatewayConfig | None], int | None]


@dataclass(frozen=True, slots=True)
class Route:
    config: GatewayConfig
    lane: str
    device: str
    endpoint: str  # the endpoint's name, as a direct diag prints it
    unit: int

    @property
    def note(self) -> str:
        return f"(through the controller, lane {self.lane} in maintenance)"


def via(target: Callable[[], str], unit: int, go: Callable[[Route], int]) -> Through:
    """Go through the controller when the config serves this device on a lane in
    maintenance; the attempt answers None when it cannot (no such lane device, or the
    lane not in maintenance): then diag is refused."""

    def attempt(config: GatewayConfig | None) -> int | None:
        found = route(config, target(), unit)
        if found is None or not in_maintenance(found):
            return None
        return go(found)

    return attempt


def route(config: GatewayConfig | None, endpoint: str, unit: int) -> Route | None:
    """The lane device the config serves at `endpoint` and `unit`, if any."""
    if config is None:
        return None
    key = endpoint_key(endpoint)
    for lane in config.lanes:
        for device in MODBUS_DEVICES:
            served = getattr(lane, device)
            if endpoint_key(served.url) == key and served.unit == unit:
                return Route(config, lane.id, device, endpoint, unit)
    return None


def in_maintenance(route: Route) -> bool:
    """Whether the controller's status shows the route's lane in maintenance (False
    when the socket cannot say: diag is then refused, as without a route)."""
    try:
        answer = request(route.config.socket, {"op": "status"}, timeout_s=5.0)
    except ClientError:
        return False
    data = answer.get("data")
    lanes = data.get("lanes", []) if isinstance(data, dict) else []
    states = {lane.get("lane"): lane.get("state") for lane in lanes if isinstance(lane, dict)}
    return states.get(route.lane) == "maintenance"


def _ask(route: Route, fields: dict[str, object], as_json: bool) -> dict[str, object] | int:
    """The controller's answer's data, or (the error printed) the exit code."""
    payload = {"op": "diag", "lane": route.lane, "device": route.device, **fields}
    try:
        answer = request(route.config.socket, payload, timeout_s=10.0)
    except ClientError as error:
        return _failed(route, fields, str(error), error.code, as_json)
    code = exit_code(answer)
    if code != mb.OK:
        why = str(answer.get("error") or "no reason given").replace("\n", " ")
        return _failed(route, fields, why, code, as_json)
    data = answer.get("data")
    return data if isinstance(data, dict) else {}


def _failed(route: Route, fields: dict[str, object], why: str, code: int, as_json: bool) -> int:
    line = f"refused: {why}" if code == EXIT_REFUSED else why
    print(f"error: {line}", file=sys.stderr)
    if as_json:  # as a direct diag's failure: the object, with the error
        through = {"lane": route.lane, "device": route.device}
        print(json.dumps({"endpoint": route.endpoint, "unit": route.unit, **fields,
                          "through": through, "error": line}))  # fmt: skip
    return code


def read(route: Route, *, table: str, address: int, count: int, as_json: bool) -> int:
    mb.check_range(table, address, count, mb.MAX_COUNT)
    data = _ask(route, {"table": table, "address": address, "count": count}, as_json)
    if isinstance(data, int):
        return data
    raw = data.get("values")
    values = [int(v) for v in raw] if isinstance(raw, list) else []
    frames = mb.Frames(sent=1, received=1)  # the controller's one exchange for us
    if as_json:
        through = {"lane": route.lane, "device": route.device}
        print(mb.json_report(route.endpoint, route.unit, frames, table=table, address=address,
                             values=values, through=through))  # fmt: skip
        return mb.OK
    last = address + len(values) - 1
    print(f"-- {route.endpoint} unit {route.unit} {table} {address}..{last} {route.note}")
    print("\n".join(mb.value_rows(table, address, values)))
    print(frames)
    return mb.OK


def write(route: Route, *, table: str, address: int, texts: list[str], as_json: bool) -> int:
    """A write that stands for a command becomes it; the interlock judges it."""
    values = mb.parse_values(table, texts)
    mb.check_range(table, address, len(values), mb.MAX_WRITE)
    data = _ask(route, {"table": table, "address": address, "values": values}, as_json)
    if isinstance(data, int):
        return data
    command = f"{data.get('action')} {data.get('side')}"
    noop = data.get("noop")
    if as_json:
        print(json.dumps({"endpoint": route.endpoint, "unit": route.unit, "table": table,
                          "address": address, "written": values, "through": {
                              "lane": route.lane, "device": route.device, "command": command,
                              "noop": noop or None}}))  # fmt: skip
        return mb.OK
    done = f"no-op ({noop})" if noop else "accepted"
    print(f"-- {route.endpoint} unit {route.unit} {table} {address}={values[0]}: "
          f"{command} {done} {route.note}")  # fmt: skip
    return mb.OK
