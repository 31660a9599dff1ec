"""`gatectl emulate --config FILE`: serve every device of every lane in FILE on its
configured endpoint (TCP sockets and ptys), run the world with traffic, and take typed
commands on a control channel (a unix socket of JSON lines; by default `emulate.sock`
beside the config's maintenance socket).

A lane with a `camera:` section gets its cameras too: each reads the plates of the
world's trucks and POSTs the reads to the gateway's camera listener (the config's
`http://LISTEN/PATH`, or `--camera-url LANE=URL`) with its secret (the config's
`secret_file`, or `--camera-secret-file CAMERA=FILE`), as a real camera would.

Control requests: {"op": "spawn", "lane": "L01", "behaviour": "obey"}, {"op": "fault",
"lane": "L01", "device": "scale", "fault": {...FaultSpec...}}, {"op": "status"}; the
protocol, with socat examples, is in docs/devices.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import random
import signal
from collections.abc import Awaitable, Callable, Mapping
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from controller.config.models import GatewayConfig, LaneConfig
from emulators.faults import WIRE_FAULTS, FaultBook, FaultSpec
from emulators.lane import CameraSpec, EmulatedLane
from emulators.world import Behaviour
from simulation.emulation import camera_specs, spec_from_config


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Spawn(_Request):
    op: Literal["spawn"]
    lane: str
    behaviour: Behaviour = Behaviour.OBEY


class Fault(_Request):
    op: Literal["fault"]
    lane: str
    device: Literal["io", "entry_barrier", "exit_barrier", "scale", "rfid"]
    fault: FaultSpec


class Status(_Request):
    op: Literal["status"]


# --misbehave's drivers; a dead tag stalls the lane until an officer identifies the truck,
# so it comes only when spawned by name
RANDOM_MISBEHAVIOURS = [b for b in Behaviour if b not in (Behaviour.OBEY, Behaviour.DEAD_TAG)]
KEEP_GONE = 100  # departed trucks kept per lane for a look; the status counts them all
WIRE_OF = {
    "io": "io",
    "entry_barrier": "rs485",
    "exit_barrier": "rs485",
    "scale": "scale",
    "rfid": "rfid",
}
CONTROL = TypeAdapter(Annotated[Spawn | Fault | Status, Field(discriminator="op")])


class EmulateError(Exception):
    """The emulated devices cannot be served (a port in use, a path not writable)."""


class Faultable(Protocol):
    faults: FaultBook
    now: float


@dataclass(frozen=True, slots=True)
class CameraTargets:
    """Where the emulated cameras post (by lane) and the secrets they use (by camera
    id), overriding the config's listener address and secret files."""

    urls: Mapping[str, str] = field(default_factory=dict)
    secret_files: Mapping[str, Path] = field(default_factory=dict)

    def specs(self, lane: LaneConfig) -> tuple[CameraSpec, ...]:
        url = self.urls.get(lane.id)
        if lane.camera is not None and url is None and lane.camera.listen.endswith(":0"):
            raise EmulateError(
                f"lane {lane.id}: camera.listen has port 0 (any free port): give the "
                f"gateway's listener as --camera-url {lane.id}=http://HOST:PORT{lane.camera.path}"
            )
        return camera_specs(lane, url, self.secret_files)


class Emulation:
    def __init__(
        self,
        config: GatewayConfig,
        time_scale: float | None,
        seed: int,
        cameras: CameraTargets = CameraTargets(),
    ) -> None:
        self.lanes = {
            lane.id: EmulatedLane(
                spec_from_config(lane, time_scale, cameras.specs(lane)),
                seed=seed + index,
                keep_gone=KEEP_GONE,
            )
            for index, lane in enumerate(config.lanes)
        }
        self.rng = random.Random(seed)  # noqa: S311 - arrival process

    def handle(self, line: bytes) -> dict[str, object]:
        try:
            request = CONTROL.validate_json(line)
        except ValidationError as error:
            first = error.errors()[0]
            return {"ok": False, "error": f"{'.'.join(map(str, first['loc']))}: {first['msg']}"}
        if isinstance(request, Status):
            return {"ok": True, "lanes": {k: self._status(v) for k, v in self.lanes.items()}}
        lane = self.lanes.get(request.lane)
        if lane is None:
            return {"ok": False, "error": f"lane: no lane {request.lane!r}"}
        if isinstance(request, Spawn):
            truck = lane.world.spawn(lane.world.make_truck(request.behaviour))
            return {
                "ok": True,
                "truck": truck.ident,
                "tag": truck.tag_hex,
                "gross_kg": truck.gross_kg,
                "plate": truck.plate,  # what a lane camera reads
                "papers_plate": truck.papers_plate,  # what its tag's papers name
            }
        if request.fault.kind in WIRE_FAULTS:
            return self._wire_fault(lane, request)
        models: dict[str, Faultable] = {
            "io": lane.io,
            "entry_barrier": lane.barriers["entry"],
            "exit_barrier": lane.barriers["exit"],
            "scale": lane.scale,
        }
        model = models.get(request.device)
        if model is None:
            return {"ok": False, "error": f"fault.kind: {request.device} has only wire faults"}
        model.faults.inject(request.fault, model.now)
        return {"ok": True}

    @staticmethod
    def _wire_fault(lane: EmulatedLane, request: Fault) -> dict[str, object]:
        """A wire fault goes to the device's endpoint (a barrier's: its unit on the bus)."""
        spec, wire = request.fault, WIRE_OF[request.device]
        if spec.unit is None and request.device.endswith("_barrier"):
            side = (
                lane.spec.entry_unit if request.device == "entry_barrier" else lane.spec.exit_unit
            )
            spec = spec.model_copy(update={"unit": side})
        lane.wire[wire].inject(spec, lane.clock.now() if lane.clock is not None else 0.0)
        return {"ok": True, "wire": wire}

    @staticmethod
    def _status(lane: EmulatedLane) -> dict[str, object]:
        world = lane.world
        return {
            "queue": world.queue_length,
            "departed": world.departed_count,
            "turned_away": world.turned_away_count,
            "incidents": [(i.kind, i.caused_by) for i in world.oracle.incidents],
            "io": {"outputs": lane.io.outputs, "watchdog_tripped": lane.io.tripped},
            "barriers": {
                side: {
                    "state": model.state.name.lower(),
                    "position": round(model.position, 1),
                    "strokes": model.strokes,
                    "last_error": model.last_error.name.lower(),
                    "auto_close": model.auto_close,
                }
                for side, model in lane.barriers.items()
            },
            "cameras": {
                camera_id: {
                    "missed": lane.cameras[camera_id].missed,
                    "delivered": pusher.delivered,
                    "refused": dict(pusher.refused),
                    "failures": pusher.failures,
                    "backlog": len(pusher.backlog),
                }
                for camera_id, pusher in lane.pushers.items()
            },
        }

    async def traffic(self, rate_per_h: float, saturate: int, misbehave: float) -> None:
        while True:
            for lane in self.lanes.values():
                if saturate and lane.world.queue_length < saturate:
                    self._spawn(lane, misbehave)
            if rate_per_h > 0:
                scale = next(iter(self.lanes.values())).spec.time_scale
                gap = -math.log(1 - self.rng.random()) * 3600 / rate_per_h / scale
                await asyncio.sleep(gap)
                for lane in self.lanes.values():
                    self._spawn(lane, misbehave)
            else:
                await asyncio.sleep(0.5)

    def _spawn(self, lane: EmulatedLane, misbehave: float) -> None:
        behaviour = Behaviour.OBEY
        if self.rng.random() < misbehave:
            behaviour = self.rng.choice(RANDOM_MISBEHAVIOURS)
        lane.world.spawn(lane.world.make_truck(behaviour))


async def emulate(
    config: GatewayConfig,
    *,
    control: Path,
    time_scale: float | None,
    rate_per_h: float,
    saturate: int,
    misbehave: float,
    seed: int,
    cameras: CameraTargets = CameraTargets(),
) -> None:
    emulation = Emulation(config, time_scale, seed, cameras)
    loop, current = asyncio.get_running_loop(), asyncio.current_task()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, current.cancel if current else (lambda: None))
    _prepare(control)
    async with AsyncExitStack() as stack:
        for lane in emulation.lanes.values():
            try:
                await stack.enter_async_context(lane.serve())
            except OSError as error:
                raise EmulateError(
                    f"lane {lane.spec.lane_id}: cannot serve its devices: {error}"
                ) from None
        server = await asyncio.start_unix_server(_client(emulation), path=str(control))
        stack.push_async_callback(_close_server, server, control)
        print(f"control {control}", flush=True)
        print("ready", flush=True)
        with contextlib.suppress(asyncio.CancelledError):
            await emulation.traffic(rate_per_h, saturate, misbehave)


def _prepare(control: Path) -> None:
    control.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileNotFoundError):
        control.unlink()


Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


def _client(emulation: Emulation) -> Handler:
    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            while line := await reader.readline():
                writer.write(json.dumps(emulation.handle(line)).encode() + b"\n")
                await writer.drain()
        writer.close()

    return serve


async def _close_server(server: asyncio.Server, path: Path) -> None:
    server.close()
    await server.wait_closed()
    _prepare(path)
