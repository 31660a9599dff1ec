"""`gatectl run --config FILE`: the controller against whatever serves the endpoints in
FILE, emulators or hardware. Lanes run in one process; the journal is SQLite; clearance
comes from the manifest in-process (the MQTT bridge is configured with `mqtt:`, not
available in this version); the maintenance socket serves gatectl's lane commands."""

from __future__ import annotations

import time

from controller.clearance import ManifestClearance, load_manifest
from controller.config.models import GatewayConfig
from controller.core.types import Role
from controller.errors import ConfigError
from controller.journal.sqlite import SqliteJournal
from controller.maintenance.audit import AuditLog
from controller.maintenance.server import MaintenanceServer
from controller.runtime.build import lane_setup
from controller.runtime.gateway import Gateway
from controller.runtime.lane import LaneRuntime
from devices.transport.modbus import ModbusLinks


def clearance_for(config: GatewayConfig) -> ManifestClearance:
    manifest_path = config.clearance.manifest
    if manifest_path is None:
        raise ConfigError(
            "clearance.manifest",
            "set a manifest: clearance over MQTT (the bridge) is not available in this version",
        )
    return ManifestClearance.from_manifest(load_manifest(manifest_path), median_s=0.0)


async def run_gateway(config: GatewayConfig) -> None:
    clearance = clearance_for(config)
    journal = await SqliteJournal.open(config.journal, time.time)
    links = ModbusLinks(timeout_s=0.3)
    try:
        lanes = [
            LaneRuntime(
                await lane_setup(lane, links=links, clearance_timeout_s=config.clearance.timeout_s),
                journal,
                clearance,
            )
            for lane in config.lanes
        ]
        gateway = Gateway(lanes)
        roles = {
            Role.VIEWER: config.roles.viewer,
            Role.TECHNICIAN: config.roles.technician,
            Role.OFFICER: config.roles.officer,
        }
        audit = AuditLog(config.audit_log or config.journal.with_suffix(".audit.log"))

        def listening() -> None:
            print(f"running {len(lanes)} lane(s); socket {config.socket}", flush=True)

        await gateway.run(MaintenanceServer(config.socket, gateway, audit, roles, listening))
    finally:
        clearance.cancel_all()
        await links.close()
        await journal.close()
