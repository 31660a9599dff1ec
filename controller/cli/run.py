"""`gatectl run --config FILE`: the controller against whatever serves the endpoints in
FILE, emulators or hardware. Lanes run in one process; the journal is SQLite; the
maintenance socket serves gatectl's lane commands. Clearance comes over MQTT when `mqtt:`
is configured (the bridge, verified against `clearance.verify_keys`), else from
`clearance.manifest` through the in-process central service; decisions take the same
signed, verified path either way (S6). Lanes with a `camera:` section get their camera
listener bound before any lane starts (an address in use ends `run` with its error) and
their snapshots stored under `snapshots.dir`, pruned with the journal's period.

One controller per gateway and per device endpoint: `run` takes their locks
(runtime/locks.py) before it opens anything, and claims the maintenance socket before a
lane starts, so a second `run` is refused (AlreadyOwned) without touching the first."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine
from pathlib import Path

from controller.bridge.mqtt import Bridge, BrokerSettings
from controller.bridge.officer import officer_command
from controller.bridge.reception import Reception
from controller.bridge.signing import load_public_key
from controller.bridge.verify import Verifier
from controller.central import (
    IN_PROCESS_KEY_ID,
    FileSeqCounter,
    InProcessClearance,
    in_process_clearance,
)
from controller.clearance import load_manifest, manifest_lookup
from controller.config.models import GatewayConfig, MqttConfig
from controller.core.types import Role
from controller.errors import ConfigError
from controller.journal.snapshots import SnapshotError, SnapshotLimits, SnapshotStore
from controller.journal.sqlite import JournalLimits, SqliteJournal
from controller.maintenance.audit import AuditLog
from controller.maintenance.server import MaintenanceServer
from controller.runtime.build import lane_setup, listening
from controller.runtime.gateway import Gateway
from controller.runtime.lane import LaneRuntime
from controller.runtime.locks import HeldLocks, acquire_endpoints, acquire_gateway
from controller.runtime.log_setup import configure_logging
from controller.runtime.logs import log_event, log_lane_event
from controller.runtime.metrics import GatewayMetrics
from controller.runtime.sdnotify import Notifier
from controller.runtime.service import ServiceNotifier, install_test_stall
from controller.runtime.setup import LaneSetup
from devices.transport.modbus import ModbusLinks

log = logging.getLogger(__name__)
RETENTION_PERIOD_S = 600.0


def _bridge(config: GatewayConfig, journal: SqliteJournal, audit: AuditLog) -> Bridge:
    mqtt = config.mqtt
    if mqtt is None:
        raise ConfigError("mqtt", "not configured")
    if not config.clearance.verify_keys:
        raise ConfigError("clearance.verify_keys", "name at least one key to verify decisions")
    keys = {
        key_id: load_public_key(path, f"clearance.verify_keys.{key_id}")
        for key_id, path in config.clearance.verify_keys.items()
    }
    verifier = Verifier(keys, config.clearance.max_clock_skew_s, time.time, journal)
    reception = Reception(verifier, journal, [lane.id for lane in config.lanes], audit)
    bridge = Bridge(
        config.site,
        config.gateway,
        broker_settings(mqtt),
        outbox=journal,
        reception=reception,
        wall_clock=time.time,
        log_link=True,
    )
    bridge.indicators = {
        lane.id: f"{lane.scale.protocol}@{lane.scale.url}" for lane in config.lanes
    }
    return bridge


def broker_settings(mqtt: MqttConfig) -> BrokerSettings:
    return BrokerSettings.from_url(
        mqtt.url,
        username=mqtt.username,
        password_file=mqtt.password_file,
        ca_file=mqtt.ca_file,
        keepalive_s=mqtt.keepalive_s,
    )


def audit_log(config: GatewayConfig) -> AuditLog:
    return AuditLog(config.audit_log or config.journal.with_suffix(".audit.log"))


async def open_journal(config: GatewayConfig) -> SqliteJournal:
    limits = JournalLimits.in_mb(**config.retention.model_dump())
    return await SqliteJournal.open(
        config.journal, time.time, outbox=config.mqtt is not None, limits=limits
    )


def snapshot_store(config: GatewayConfig) -> SnapshotStore:
    """The cameras' snapshots: `snapshots.dir`, by default beside the journal."""
    snapshots = config.snapshots
    directory = snapshots.dir or config.journal.with_suffix(".snapshots")
    limits = SnapshotLimits(snapshots.max_age_days * 86_400.0, snapshots.max_mb * 1024 * 1024)
    return SnapshotStore(directory, limits, time.time)


async def lane_setups(config: GatewayConfig, links: ModbusLinks) -> list[LaneSetup]:
    timeout_s = config.clearance.timeout_s
    return [
        await lane_setup(lane, links=links, clearance_timeout_s=timeout_s) for lane in config.lanes
    ]


async def standalone_clearance(
    config: GatewayConfig, journal: SqliteJournal, audit: AuditLog
) -> InProcessClearance:
    manifest_path = config.clearance.manifest
    if manifest_path is None:
        raise ConfigError("clearance", "set mqtt (a central service) or clearance.manifest")
    lookup = manifest_lookup(load_manifest(manifest_path), str(manifest_path))
    counter = FileSeqCounter(central_seq_state(config))
    for lane in config.lanes:
        accepted = await journal.last_accepted_seq(lane.id, IN_PROCESS_KEY_ID, "decision")
        counter.at_least(lane.id, "decision", accepted)
    return in_process_clearance(
        lookup,
        lanes=[lane.id for lane in config.lanes],
        journal=journal,
        wall_clock=time.time,
        median_s=0.0,
        seqs=journal,
        audit=audit,
        max_skew_s=config.clearance.max_clock_skew_s,
        counter=counter,
    )


def central_seq_state(config: GatewayConfig) -> Path:
    """The in-process central's seqs, beside the journal that holds the accepted ones."""
    return config.journal.with_suffix(".central-seq.json")


async def run_gateway(config: GatewayConfig) -> None:
    """Own the gateway and its endpoints (or refuse, AlreadyOwned), then run it."""
    logs = configure_logging()
    try:
        held = claim(config)
        try:
            await _run_owned(config)
        finally:
            held.release()
            log_event(log, logging.INFO, "gateway_stopped", f"gateway {config.gateway} stopped")
    finally:
        logs.stop()  # what is queued is written before the process ends


def claim(config: GatewayConfig) -> HeldLocks:
    """The gateway's lock, then every device endpoint's, before anything is touched."""
    gateway = acquire_gateway(config.locks, config.gateway)
    endpoints = [
        (getattr(lane, name).url, f"lanes.{lane.id}.{name}")
        for lane in config.lanes
        for name in ("io", "entry_barrier", "exit_barrier", "scale", "rfid")
    ]
    holder = f"gatectl run, gateway {config.gateway}"
    try:
        devices = acquire_endpoints(config.locks, endpoints, holder)
    except BaseException:
        gateway.release()
        raise
    return HeldLocks([gateway, *devices.locks])


async def _run_owned(config: GatewayConfig) -> None:
    audit = audit_log(config)
    journal = await open_journal(config)
    links = ModbusLinks(timeout_s=0.3)
    snapshots = snapshot_store(config)
    clearance: Bridge | InProcessClearance | None = None
    try:
        bridge = _bridge(config, journal, audit) if config.mqtt is not None else None
        clearance = bridge or await standalone_clearance(config, journal, audit)
        setups = await lane_setups(config, links)
        lanes = [
            LaneRuntime(s, journal, clearance, log_devices=True, snapshots=snapshots)
            for s in setups
        ]
        gateway = Gateway(lanes, snapshots)
        clearance.reception.on_alarm = gateway.set_alarm
        clearance.reception.operate = lambda command: officer_command(gateway, command)
        services: list[Callable[[], Coroutine[object, object, None]]] = [
            lambda: keep_retention(journal, journal.limits),
            ServiceNotifier(gateway, Notifier()).run,  # systemd: READY, WATCHDOG, STOPPING
        ]
        if any(lane.camera is not None for lane in config.lanes):
            services.append(lambda: keep_snapshots(snapshots))
        install_test_stall()
        if (metrics := config.metrics) is not None:
            exporter = GatewayMetrics(lanes)
            if bridge is not None:  # the backlog is what waits for the broker
                exporter.backlog, exporter.mqtt_connected = (
                    journal.pending_count,
                    bridge.connected.is_set,
                )
            services.append(await exporter.bound(metrics.host, metrics.port))
        if bridge is not None:
            bridge.lanes = dict(gateway.lanes)
            for lane in lanes:
                lane.listeners.append(lambda _lane, _event: bridge.wake())
            services.append(bridge.run)
        for lane in lanes:
            lane.listeners.append(log_lane_event)
        server = _server(config, gateway, audit, len(lanes))
        async with listening(setups):  # the cameras' listeners bound before a lane moves
            await server.start()  # the socket claimed (or refused) before a lane moves
            await gateway.run(server, services)
    finally:
        if isinstance(clearance, InProcessClearance):
            clearance.cancel_all()
        await links.close()
        await snapshots.close()
        await journal.close()


async def keep_retention(journal: SqliteJournal, limits: JournalLimits) -> None:
    """Prune delivered records past the retention limits, now and then (DESIGN 6)."""
    while True:
        pruned = await journal.prune(max_age_s=limits.max_age_s, max_bytes=limits.max_bytes)
        if pruned:
            log.info("journal: %d delivered records pruned", pruned)
        await asyncio.sleep(RETENTION_PERIOD_S)


async def keep_snapshots(store: SnapshotStore) -> None:
    """The snapshots' retention, on the journal's period (a failure is logged, not fatal:
    the disk may come back, and the journal's own headroom check guards admissions)."""
    while True:
        try:
            pruned = await store.prune()
        except SnapshotError as error:
            log.warning("snapshots: retention failed: %s", error)
        else:
            if pruned:
                log.info("snapshots: %d pruned", pruned)
        await asyncio.sleep(RETENTION_PERIOD_S)


def _server(
    config: GatewayConfig, gateway: Gateway, audit: AuditLog, count: int
) -> MaintenanceServer:
    roles = {
        Role.VIEWER: config.roles.viewer,
        Role.TECHNICIAN: config.roles.technician,
        Role.OFFICER: config.roles.officer,
    }

    def listening() -> None:
        text = f"running {count} lane(s); socket {config.socket}"
        log_event(log, logging.INFO, "gateway_started", text, fields={"gateway": config.gateway})

    return MaintenanceServer(
        config.socket, gateway, audit, roles, listening, console_group=config.roles.console
    )
