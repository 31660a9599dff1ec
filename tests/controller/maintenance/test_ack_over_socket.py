"""`gatectl ack` against a running gateway, through its maintenance socket (real time: a
gatectl process per command): the officer's acknowledgement reaches the lane core, is
audited with the alarm it names, shows in the status, and an alarm not standing is refused
with exit code 1 and a line naming it."""

from __future__ import annotations

import asyncio
import grp
import json
import os
import sys
from pathlib import Path

from controller.core.types import LaneState, OperatorAction, Role
from controller.maintenance.audit import AuditLog
from controller.maintenance.server import Caller, MaintenanceServer, Operation
from controller.runtime.gateway import Gateway
from tests.controller.runtime.harness import EmulatedLane
from tests.controller.runtime.test_lane_runtime import state, wait_for

ROOT = Path(__file__).resolve().parents[3]
GATECTL = [sys.executable, "-m", "controller.cli.main"]
OFFICER = Caller(pid=os.getpid(), uid=os.getuid(), user="ofc", role=Role.OFFICER)


async def gatectl(*args: str) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        *GATECTL, *args, cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    async with asyncio.timeout(20):
        out, _ = await proc.communicate()
    return proc.returncode or 0, out.decode()


async def test_an_officer_acknowledges_an_alarm_with_gatectl(tmp_path: Path) -> None:
    lane = EmulatedLane()
    gateway = Gateway([lane.runtime])
    group = grp.getgrgid(os.getgid()).gr_name  # the test's user holds every role
    sock, audit = tmp_path / "gatectl.sock", AuditLog(tmp_path / "audit.log")
    listening = asyncio.Event()
    server = MaintenanceServer(sock, gateway, audit, dict.fromkeys(Role, group), listening.set)
    task = asyncio.create_task(gateway.run(server))
    try:
        await wait_for(lambda: state(lane) == LaneState.IDLE, 10, lane)
        await asyncio.wait_for(listening.wait(), 10)
        drill = Operation("L01", OperatorAction.MODE_EMERGENCY, reason="drill")
        assert gateway.operate(drill, OFFICER)["accepted"] is True
        code, out = await gatectl("ack", "L01", "emergency", "-r", "on my way", "-s", str(sock))
        assert code == 0, out
        alarms = lane.runtime.alarm_view()  # what status shows
        assert alarms["emergency"]["acknowledged"] is True
        code, out = await gatectl("ack", "L01", "tailgating", "-r", "on my way", "-s", str(sock))
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert code == 1
    assert "refused: alarm: no alarm 'tailgating' standing on lane L01 (emergency)" in out
    entries = [json.loads(line) for line in audit.path.read_text().splitlines()]
    assert [e.get("alarm") for e in entries] == ["emergency", "tailgating"]
