"""From a validated config to running lanes: transports, drivers, setups.

Real devices and emulators differ only by their URLs; `memory://` endpoints resolve in
the given hub (in-process emulation for the demo, simulations and tests).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import AsyncExitStack, asynccontextmanager

from controller.config.camera import listener_settings
from controller.config.lane import fresh_budgets, lane_params
from controller.config.models import LaneConfig
from controller.core.types import Device, Side
from controller.runtime.setup import CameraPort, LaneSetup, ListenerPort, Wiring
from devices.barrier.driver import BarrierDriver
from devices.camera.driver import CameraDriver
from devices.camera.listener import CameraListener
from devices.io.driver import IoDriver
from devices.rfid.driver import RfidDriver
from devices.scale.driver import ScaleDriver
from devices.transport.base import MemoryHub
from devices.transport.modbus import ModbusLinks
from devices.transport.open import modbus_unit, open_serial


async def lane_setup(
    lane: LaneConfig,
    *,
    links: ModbusLinks,
    hub: MemoryHub | None = None,
    clearance_timeout_s: float = 10.0,
) -> LaneSetup:
    """Open the lane's serial lines and bind its drivers (Modbus links connect lazily)."""
    io = IoDriver(modbus_unit(lane.io.url, lane.io.unit, links=links, hub=hub), f"{lane.id}.io")
    entry = modbus_unit(lane.entry_barrier.url, lane.entry_barrier.unit, links=links, hub=hub)
    exit_ = modbus_unit(lane.exit_barrier.url, lane.exit_barrier.unit, links=links, hub=hub)
    scale_stream = await open_serial(lane.scale.url, hub=hub, reopen=True)
    rfid_stream = await open_serial(lane.rfid.url, hub=hub, reopen=True)
    listeners, cameras = camera_drivers(lane)
    return LaneSetup(
        lane_id=lane.id,
        params=lane_params(lane, clearance_timeout_s),
        wiring=Wiring(dict(lane.wiring.inputs), dict(lane.wiring.outputs)),
        io=io,
        barriers={
            Side.ENTRY: BarrierDriver(entry, f"{lane.id}.entry_barrier"),
            Side.EXIT: BarrierDriver(exit_, f"{lane.id}.exit_barrier"),
        },
        scale=ScaleDriver(scale_stream, f"{lane.id}.scale", lane.scale.protocol),
        rfid=RfidDriver(rfid_stream, f"{lane.id}.rfid", lane.rfid.address),
        io_poll_s=lane.io.poll_ms / 1000,
        barrier_poll_s={
            Side.ENTRY: lane.entry_barrier.poll_ms / 1000,
            Side.EXIT: lane.exit_barrier.poll_ms / 1000,
        },
        scale_request_s=lane.scale.request_period_s,
        rfid_poll_s=lane.rfid.poll_ms / 1000,
        safe_s=lane.timing.safe_ms / 1000,
        rfid_debounce_s=lane.rfid.debounce_s,
        watchdog_ms=lane.io.watchdog_ms,
        fresh_s=fresh_budgets(lane),
        endpoints={device.value: getattr(lane, device.value).url for device in Device},
        cameras=cameras,
        listeners=listeners,
    )


def camera_drivers(lane: LaneConfig) -> tuple[list[ListenerPort], Mapping[Side, CameraPort]]:
    """The lane's camera listener (not started: `listening` starts it) and one driver per
    configured side; none without a `camera:` section. Secret files are read here."""
    camera = lane.camera
    if camera is None:
        return [], {}
    settings = listener_settings(camera, f"lanes.{lane.id}.camera")
    listener = CameraListener(settings, name=f"{lane.id}.camera")
    sides = {Side.ENTRY: camera.entry} | ({Side.EXIT: camera.exit} if camera.exit else {})
    return [listener], {side: CameraDriver(listener, cfg.id) for side, cfg in sides.items()}


@asynccontextmanager
async def listening(setups: Iterable[LaneSetup]) -> AsyncIterator[None]:
    """The lanes' listeners bound (a taken address is a DeviceBroken naming it, before
    any lane starts) for the block, and closed after it."""
    async with AsyncExitStack() as stack:
        for setup in setups:
            for listener in setup.listeners:
                await listener.start()
                stack.push_async_callback(listener.close)
        yield
