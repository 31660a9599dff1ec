"""`gatectl diag modbus` through the controller, for a lane in maintenance.

Theory of operation: while a controller owns a device's endpoint, a second master on the
line would garble both, and a write behind its back would bypass the interlocks. So in
maintenance diag asks the controller instead. A read runs on the lane's own link (the
driver's `ModbusUnit`): the link's lock keeps it one request at a time with the lane's
polling. A failed read counts against the device as a failed poll does; a good one does
not refresh the device's freshness, which vouches for the lane's image of the device
(what S1 and S7 judge by), and a diag read leaves that image as it was. A write is never
passed on as registers: the interlock judges commands, not registers. A write that
stands for an operator command (a barrier's momentary command coil, a lamp coil of the
lane's wiring) becomes that command through the core, where S1-S3 judge it as they
judge `gatectl barrier/light`; any other write is refused with what may be written.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import cast

from controller.core.types import Device, LaneState, OperatorAction, Side
from controller.errors import DeviceError
from controller.maintenance.protocol import DiagRequest
from controller.maintenance.server import Caller, Operation
from controller.runtime.lane import LaneRuntime
from devices.barrier.codec import BarrierCoil
from devices.bounded import Bounded
from devices.transport.base import ModbusUnit, table_reader

A = OperatorAction
BARRIER_COMMANDS = {
    BarrierCoil.OPEN: A.BARRIER_OPEN,
    BarrierCoil.CLOSE: A.BARRIER_CLOSE,
    BarrierCoil.STOP: A.BARRIER_STOP,
}
SIDE_OF = {"entry_barrier": Side.ENTRY, "exit_barrier": Side.EXIT}
LAMPS = ("entry_red", "entry_green", "exit_red", "exit_green")
Operate = Callable[[Operation, Caller], dict[str, object]]


@dataclass(frozen=True, slots=True)
class Mapped:
    """The operator command a register write stands for."""

    action: OperatorAction
    side: Side


def refusal(lane: LaneRuntime) -> str | None:
    """Why diag may not go through this lane now (None: it is in maintenance)."""
    core, lane_id = lane.core, lane.setup.lane_id
    state = "starting" if core is None else core.state.value
    if state == LaneState.MAINTENANCE:
        return None
    return (
        f"lane {lane_id} is {state}, not in maintenance: diag goes through the controller "
        f"only in maintenance (gatectl mode {lane_id} maintenance)"
    )


async def serve(
    lane: LaneRuntime, request: DiagRequest, caller: Caller, operate: Operate
) -> dict[str, object]:
    """The answer to a diag request on `lane`: values read, a command's answer, or why not."""
    refused = refusal(lane)
    if refused is not None:
        return {"accepted": False, "refused": refused, "action": _action(request)}
    if request.values is None:
        return await read(lane, request)
    mapped = map_write(lane, request.device, request.table, request.address, request.values)
    if isinstance(mapped, str):
        return {"accepted": False, "refused": mapped, "action": "diag_write"}
    register = f"{request.device} {request.table} {request.address}={request.values[0]}"
    op = Operation(lane.setup.lane_id, mapped.action, mapped.side, args={"diag": register})
    answer = operate(op, caller)
    return answer | {"action": mapped.action.value, "side": mapped.side.value, "diag": register}


def _action(request: DiagRequest) -> str:
    return "diag_read" if request.values is None else "diag_write"


async def read(lane: LaneRuntime, request: DiagRequest) -> dict[str, object]:
    """Read the table on the lane's own link. A failure counts against the device like a
    failed poll; a success refreshes nothing: freshness vouches for the lane's image of
    the device (S1, S7), and a diag read does not update that image."""
    unit = device_unit(lane, request.device)
    if unit is None:
        return {"accepted": False, "refused": f"{request.device}: no Modbus link to read on"}
    device = Device(request.device)
    bounded = Bounded(unit, f"{lane.setup.lane_id}.{device}", lane.setup.device_timeout_s)
    answer: dict[str, object] = {"action": "diag_read", "device": request.device}
    answer.update(table=request.table, address=request.address, unit_name=unit.name)
    try:
        values = await bounded(table_reader(unit, request.table)(request.address, request.count))
    except DeviceError as error:
        lane.device_failed(device, str(error))
        return answer | {"accepted": False, "kind": "device", "refused": str(error)}
    return answer | {"accepted": True, "values": [int(v) for v in values]}


def device_unit(lane: LaneRuntime, device: str) -> ModbusUnit | None:
    """The Modbus unit the lane's driver for `device` talks through (the drivers in
    devices/ keep it as `unit`; None for a stand-in driver without one)."""
    setup = lane.setup
    driver: object = setup.io if device == "io" else setup.barriers[SIDE_OF[device]]
    return cast(ModbusUnit | None, getattr(driver, "unit", None))


def map_write(
    lane: LaneRuntime, device: str, table: str, address: int, values: Sequence[int]
) -> Mapped | str:
    """The operator command a write stands for, or the line refusing it."""
    outputs = lane.setup.wiring.outputs
    if table == "coils" and len(values) == 1:
        if device in SIDE_OF and address in set(BARRIER_COMMANDS) and values[0] == 1:
            return Mapped(BARRIER_COMMANDS[BarrierCoil(address)], SIDE_OF[device])
        lamp = next((name for name in LAMPS if outputs.get(name) == address), None)
        if device == "io" and lamp is not None and (values[0] == 1 or lamp.endswith("green")):
            side, aspect = lamp.split("_")
            green = aspect == "green" and values[0] == 1
            return Mapped(A.LIGHT_GREEN if green else A.LIGHT_RED, Side(side))
    return not_writable(lane, device, table, address, values)


def not_writable(
    lane: LaneRuntime, device: str, table: str, address: int, values: Sequence[int]
) -> str:
    outputs = lane.setup.wiring.outputs
    lamps = ", ".join(f"{outputs[name]} {name}" for name in LAMPS if name in outputs)
    return (
        f"{device} {table} {address}={','.join(map(str, values))}: not written through the "
        "controller, which judges commands, not registers; in maintenance it takes one "
        "coil set to 1 that stands for a command: entry_barrier/exit_barrier coils "
        f"{int(BarrierCoil.OPEN)} open, {int(BarrierCoil.CLOSE)} close, "
        f"{int(BarrierCoil.STOP)} stop; io lamp coils {lamps} (0 on a green shows red); "
        f"anything else needs the controller stopped"
    )
