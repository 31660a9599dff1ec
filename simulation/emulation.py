"""The CLI's bridge between a lane's config and its emulators (the CLI alone may import
emulators, and only lazily): specs from config, in-memory lanes, world-backed clearance."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from controller.clearance import Lookup, ManifestEntry
from controller.config.camera import read_secret
from controller.config.models import LaneConfig
from controller.core.types import Decision
from emulators.lane import CameraSpec, LaneSpec
from emulators.world import Truck, World

# The channel map of every in-memory lane (demo, simulation, the runtime tests' harness).
MEMORY_INPUTS = {
    "approach_loop": 0,
    "entry_arm_loop": 1,
    "beam_in": 2,
    "beam_out": 3,
    "exit_arm_loop": 4,
}
MEMORY_OUTPUTS = {
    "entry_red": 0,
    "entry_green": 1,
    "exit_red": 2,
    "exit_green": 3,
    "sign_reposition": 4,
    "sign_reverse": 5,
}


def spec_from_config(
    lane: LaneConfig,
    time_scale: float | None = None,
    cameras: tuple[CameraSpec, ...] = (),
) -> LaneSpec:
    emu = lane.emulation
    return LaneSpec(
        lane_id=lane.id,
        io_url=lane.io.url,
        entry_url=lane.entry_barrier.url,
        entry_unit=lane.entry_barrier.unit,
        exit_url=lane.exit_barrier.url,
        exit_unit=lane.exit_barrier.unit,
        scale_url=lane.scale.url,
        rfid_url=lane.rfid.url,
        inputs=dict(lane.wiring.inputs),
        outputs=dict(lane.wiring.outputs),
        scale_protocol=lane.scale.protocol,
        rfid_address=lane.rfid.address,
        time_scale=time_scale or emu.time_scale,
        barrier_travel_s=emu.barrier_travel_s,
        scale_settle_s=emu.scale_settle_s,
        scale_noise_kg=emu.scale_noise_kg,
        rfid_range_m=emu.rfid_range_m,
        rfid_first_read_s=emu.rfid_first_read_s,
        truck_speed_kmh=emu.truck_speed_kmh,
        driver_reaction_s=emu.driver_reaction_s,
        loop_response_s=emu.loop_response_ms / 1000,
        deck_length_m=emu.deck_length_m,
        scale_frame_hz=emu.scale_frame_hz,
        clearance_median_s=emu.clearance_median_s,
        rtu_turnaround_s=emu.rtu_turnaround_ms / 1000,
        cameras=cameras,
    )


def camera_specs(
    lane: LaneConfig, url: str | None = None, secret_files: Mapping[str, Path] | None = None
) -> tuple[CameraSpec, ...]:
    """The lane's cameras as `gatectl emulate` plays them: posting to `url` (default: the
    config's `http://LISTEN/PATH`) with each camera's secret, read from `secret_files`
    (by camera id) or the config's `secret_file`; none without a `camera:` section."""
    camera = lane.camera
    if camera is None:
        return ()
    target = url or f"http://{camera.listen}{camera.path}"
    files = secret_files or {}
    specs = []
    for side, config in (("entry", camera.entry), ("exit", camera.exit)):
        if config is None:
            continue
        path = files.get(config.id, config.secret_file)
        where = f"lanes.{lane.id}.camera.{side}.secret_file"
        secret = None if path is None else read_secret(path, where)
        specs.append(CameraSpec(side, config.id, target, secret))
    return tuple(specs)


def memory_lane(lane_id: str, **emulation: float) -> LaneConfig:
    """A lane whose devices are served in memory (demo, simulation)."""
    return LaneConfig.model_validate(
        {
            "id": lane_id,
            "io": {"url": f"memory://{lane_id}-io", "unit": 1},
            "entry_barrier": {"url": f"memory://{lane_id}-rs485", "unit": 1},
            "exit_barrier": {"url": f"memory://{lane_id}-rs485", "unit": 2},
            "scale": {"url": f"memory://{lane_id}-scale", "protocol": "toledo"},
            "rfid": {"url": f"memory://{lane_id}-rfid", "address": 0},
            "wiring": {"inputs": dict(MEMORY_INPUTS), "outputs": dict(MEMORY_OUTPUTS)},
            "emulation": emulation,
        }
    )


def world_manifest(world: World, deny_every: int = 0) -> Lookup:
    """The central system's view of the trucks the world sends: declared weights and
    plates from their papers (a swapped tag's papers are another truck's); asked by plate
    alone (a dead tag), the truck whose papers name it. With `deny_every` N, every N-th
    truck is denied."""

    def lookup(tag: str | None, plate: str | None) -> ManifestEntry | None:
        for truck in [*world.trucks, *world.departed]:
            if _on_papers(truck, tag, plate):
                denied = deny_every and truck.ident % deny_every == 0
                return ManifestEntry(
                    decision=Decision.DENY if denied else Decision.GRANT,
                    declared_gross_kg=truck.declared_kg,
                    plate=truck.papers_plate or None,
                )
        return None

    return lookup


def _on_papers(truck: Truck, tag: str | None, plate: str | None) -> bool:
    if tag is not None:
        return truck.tag_hex == tag.upper()
    return plate is not None and truck.papers_plate == plate
