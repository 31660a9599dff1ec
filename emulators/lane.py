"""One lane's emulated devices, assembled from the lane's config and fed by one world.

Theory of operation: the I/O module, two barriers, the scale and the RFID reader are
built as models with the lane's physics (`emulation:`), joined to a `World` through a
`ModelPanel`, and served on exactly the endpoints the config names: Modbus TCP on its
host:port, the RS-485 bus on a pty linked at its path (both barriers on one bus when they
share it), serial devices on ptys, or `memory://` names in a hub. One ticker advances the
world and every model on the lane's emulated clock (`time_scale`), so all devices see one
consistent physical lane, and the controller cannot tell it from hardware.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from devices.transport.base import MemoryHub, ModbusResponder
from devices.transport.url import MemoryUrl, ModbusRtuUrl, ModbusTcpUrl, SerialUrl, parse_url
from emulators.barrier.interface import BarrierBusInterface
from emulators.barrier.model import BarrierModel
from emulators.base import EmulatedClock, Model, run_models
from emulators.camera.interface import CameraInterface, EventPoster, EventPusher
from emulators.camera.model import CameraFeed, CameraModel, zone_for
from emulators.faults import FaultBook
from emulators.geometry import Geometry, Physics
from emulators.io.interface import IoInterface
from emulators.io.model import IoModel, lamp_senses
from emulators.memory import serve_modbus_memory
from emulators.modbus_tcp import ModbusTcpServer
from emulators.panel import ModelPanel
from emulators.rfid.interface import RfidInterface
from emulators.rfid.model import RfidModel
from emulators.rtu_pty import LineModel, RtuPtyBus
from emulators.scale.interface import ScaleInterface
from emulators.scale.model import ScaleModel
from emulators.serial_port import SerialDevice, SerialMemoryServer, SerialPtyServer
from emulators.world import World


@dataclass(frozen=True, slots=True)
class CameraSpec:
    """One lane camera as the emulator plays it: its side and id, the gateway listener's
    URL its events go to (`http://HOST:PORT/PATH`), and its Bearer secret (None: the
    gateway allows it by its source address)."""

    side: str  # entry | exit
    camera_id: str
    url: str
    secret: bytes | None = None
    country: str = "VN"


@dataclass(frozen=True, slots=True)
class LaneSpec:
    """What the emulators need of a lane: its endpoints, wiring and physics."""

    lane_id: str
    io_url: str
    entry_url: str
    entry_unit: int
    exit_url: str
    exit_unit: int
    scale_url: str
    rfid_url: str
    inputs: Mapping[str, int]
    outputs: Mapping[str, int]
    scale_protocol: str = "toledo"
    rfid_address: int = 0
    time_scale: float = 1.0
    barrier_travel_s: float = 3.0
    scale_settle_s: float = 1.5
    scale_noise_kg: float = 5.0
    rfid_range_m: float = 8.0
    rfid_first_read_s: float = 0.5
    truck_speed_kmh: float = 10.0
    driver_reaction_s: float = 1.0
    loop_response_s: float = 0.0
    deck_length_m: float = 18.0
    scale_frame_hz: float = 10.0
    clearance_median_s: float = 3.0
    rtu_turnaround_s: float = 0.002
    cameras: tuple[CameraSpec, ...] = ()


class EmulatedLane:
    def __init__(
        self,
        spec: LaneSpec,
        *,
        seed: int = 0,
        committed: Callable[[str], bool] = lambda _tag: True,
        tick_s: float = 0.01,
        keep_gone: int | None = None,
    ) -> None:
        self.spec = spec
        self.tick_s = tick_s  # physics step; simulations use a coarser one
        outputs = spec.outputs
        self.io = IoModel(
            safe_pattern=(1 << outputs["entry_red"]) | (1 << outputs["exit_red"]),
            lamp_sense=lamp_senses(spec.inputs, outputs),
        )
        travel = spec.barrier_travel_s
        self.barriers = {"entry": BarrierModel(travel), "exit": BarrierModel(travel)}
        self.scale = ScaleModel(
            settle_s=spec.scale_settle_s, noise_kg=spec.scale_noise_kg, seed=seed
        )
        self.rfid = RfidModel(
            range_m=spec.rfid_range_m, first_read_s=spec.rfid_first_read_s, seed=seed + 1
        )
        panel = ModelPanel(
            self.io,
            inputs=spec.inputs,
            outputs=outputs,
            barriers=self.barriers,
            scale=self.scale,
            rfid=self.rfid,
        )
        physics = Physics(
            time_scale=spec.time_scale,
            barrier_travel_s=travel,
            truck_speed_mps=spec.truck_speed_kmh / 3.6,
            driver_reaction_s=spec.driver_reaction_s,
            loop_response_s=spec.loop_response_s,
        )
        self.world = World(
            panel,
            geometry=Geometry.for_deck(spec.deck_length_m),
            physics=physics,
            seed=seed,
            committed=committed,
            keep_gone=keep_gone,
        )
        protocol: Literal["toledo", "sma"] = "sma" if spec.scale_protocol == "sma" else "toledo"
        self.scale_port = ScaleInterface(
            self.scale, protocol, frame_period_s=1 / spec.scale_frame_hz
        )
        self.cameras = {
            camera.camera_id: CameraModel(
                zone=zone_for(camera.side, self.world.geo), seed=seed + 2 + index
            )
            for index, camera in enumerate(spec.cameras)
        }
        self._feeds = [CameraFeed(model, self.world) for model in self.cameras.values()]
        self.pushers: dict[str, EventPusher] = {}  # while served
        self.clock: EmulatedClock | None = None
        # wire faults per endpoint (the devices' own physical faults live in their models)
        self.wire = {name: FaultBook(seed) for name in ("io", "rs485", "scale", "rfid")}

    def rtu_line(self, baud: int) -> LineModel:
        """The RS-485 bus's timing at `baud`, with the devices' turnaround."""
        return LineModel(baudrate=baud, turnaround_s=self.spec.rtu_turnaround_s)

    @property
    def models(self) -> list[Model]:
        """The physics, on the lane's scaled clock. The I/O module is not among them: its
        communication watchdog measures the controller's real silence, so it runs on an
        unscaled clock of its own."""
        return [self.world, *self.barriers.values(), self.scale, self.rfid, *self._feeds]

    @asynccontextmanager
    async def serve(
        self,
        hub: MemoryHub | None = None,
        physics: list[Model] | None = None,
        epoch: datetime | None = None,
    ) -> AsyncIterator[EmulatedLane]:
        """Serve every device on its configured endpoint and run the physics: on tickers
        of its own, or, given `physics` (a list another ticker advances on an unscaled
        clock: many lanes in one simulation), by joining that list while served. The
        cameras' reads are stamped `epoch` (default: now) plus the emulated time."""
        spec = self.spec
        self.clock = clock = EmulatedClock(spec.time_scale)
        if physics is not None and spec.time_scale != 1.0:
            raise ValueError("a shared physics ticker runs unscaled; time_scale must be 1")
        async with AsyncExitStack() as stack:
            await self._serve(stack, hub, spec.io_url, "io", modbus=IoInterface(self.io))
            await self._serve_barriers(stack, hub)
            await self._serve(stack, hub, spec.scale_url, "scale", serial=self.scale_port)
            reader = RfidInterface(self.rfid, spec.rfid_address)
            await self._serve(stack, hub, spec.rfid_url, "rfid", serial=reader)
            mine = [*self.models, self.io]
            tickers = [] if physics is not None else self._tickers(clock)
            tickers += self._push_cameras(epoch or datetime.now(UTC))
            if physics is not None:
                physics.extend(mine)
            try:
                yield self
            finally:
                if physics is not None:
                    physics[:] = [m for m in physics if all(m is not x for x in mine)]
                for ticker in tickers:
                    ticker.cancel()
                await asyncio.gather(*tickers, return_exceptions=True)

    def _push_cameras(self, epoch: datetime) -> list[asyncio.Task[None]]:
        """One pusher per camera, posting its reads to the gateway until cancelled."""
        loop, tasks = asyncio.get_running_loop(), []
        for camera in self.spec.cameras:
            interface = CameraInterface(
                self.cameras[camera.camera_id], camera.camera_id, epoch, camera.country
            )
            pusher = EventPusher(interface, EventPoster(camera.url, camera.secret))
            self.pushers[camera.camera_id] = pusher
            tasks.append(loop.create_task(pusher.run(), name=f"camera:{camera.camera_id}"))
        return tasks

    def _tickers(self, clock: EmulatedClock) -> list[asyncio.Task[None]]:
        loop, tick = asyncio.get_running_loop(), self.tick_s
        if clock.time_scale == 1.0:  # one clock serves all: one ticker
            return [loop.create_task(run_models([*self.models, self.io], clock, tick))]
        return [
            loop.create_task(run_models(self.models, clock, period_s=tick)),
            loop.create_task(run_models([self.io], EmulatedClock(), period_s=tick)),
        ]

    async def _serve_barriers(self, stack: AsyncExitStack, hub: MemoryHub | None) -> None:
        spec, entry, exit_ = self.spec, self.barriers["entry"], self.barriers["exit"]
        if spec.entry_url == spec.exit_url:  # one RS-485 bus, two units
            bus = BarrierBusInterface({spec.entry_unit: entry, spec.exit_unit: exit_})
            await self._serve(stack, hub, spec.entry_url, "rs485", modbus=bus)
            return
        only_entry = BarrierBusInterface({spec.entry_unit: entry})
        await self._serve(stack, hub, spec.entry_url, "rs485", modbus=only_entry)
        only_exit = BarrierBusInterface({spec.exit_unit: exit_})
        await self._serve(stack, hub, spec.exit_url, "rs485", modbus=only_exit)

    async def _serve(
        self,
        stack: AsyncExitStack,
        hub: MemoryHub | None,
        url: str,
        wire: str,
        *,
        modbus: ModbusResponder | None = None,
        serial: SerialDevice | None = None,
    ) -> None:
        """Serve a Modbus responder or a serial device on the endpoint `url` names: the
        one place where a URL's scheme picks the server."""
        parsed, clock, faults = parse_url(url), self.clock, self.wire[wire]
        if clock is None:
            raise RuntimeError("serve() starts the clock before the devices")
        server: AbstractAsyncContextManager[object]
        match parsed:
            case MemoryUrl(name=name) if modbus is not None:
                serve_modbus_memory(_hub(hub, url), name, modbus, faults=faults, clock=clock.now)
                return
            case MemoryUrl(name=name) if serial is not None:
                server = SerialMemoryServer(_hub(hub, url), name, serial, clock, faults)
            case ModbusTcpUrl(host=host, port=port) if modbus is not None:
                server = ModbusTcpServer(modbus, host=host, port=port, clock=clock, faults=faults)
            case ModbusRtuUrl(path=path, line=line) if modbus is not None:
                timing = self.rtu_line(line.baud)
                server = RtuPtyBus(path, modbus, line=timing, clock=clock, faults=faults)
            case SerialUrl(path=path, line=line) if serial is not None:
                server = SerialPtyServer(path, serial, clock, baud=line.baud, faults=faults)
            case _:
                kind = "Modbus" if modbus is not None else "serial"
                raise TypeError(f"{url}: not a {kind} endpoint")
        await stack.enter_async_context(server)


def _hub(hub: MemoryHub | None, url: str) -> MemoryHub:
    if hub is None:
        raise ValueError(f"{url}: memory:// endpoints need a hub (in-process emulation)")
    return hub
