"""ServiceNotifier in virtual time against a real datagram socket: READY waits for the
slowest lane's boot, STATUS follows the lanes' states, STOPPING on the way out; the
test-only stall hook refuses a bad value in one line."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from controller.core.params import LaneParams
from controller.core.types import LaneState
from controller.errors import ConfigError
from controller.runtime.gateway import Gateway
from controller.runtime.sdnotify import Notifier
from controller.runtime.service import ServiceNotifier, install_test_stall
from tests.controller.runtime.harness import EmulatedLane
from tests.controller.runtime.test_lane_runtime import state, wait_for


@pytest.fixture
def manager(tmp_path: Path) -> Iterator[tuple[socket.socket, str]]:
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(tmp_path / "notify"))
        sock.setblocking(False)
        yield sock, str(tmp_path / "notify")


def received(sock: socket.socket) -> list[dict[str, str]]:
    found: list[dict[str, str]] = []
    while True:
        try:
            data = sock.recv(4096)
        except BlockingIOError:
            return found
        found.append(dict(line.split("=", 1) for line in data.decode().splitlines()))


@pytest.mark.looptime
async def test_ready_waits_for_the_slowest_lane_and_status_follows(
    manager: tuple[socket.socket, str],
) -> None:
    sock, path = manager
    fast, slow = EmulatedLane(), EmulatedLane(LaneParams(lane_id="L02"))
    slow.hub.modbus.pop("io")  # L02's I/O module is dead: it faults after boot_timeout_s
    gateway = Gateway([fast.runtime, slow.runtime])
    service = ServiceNotifier(gateway, Notifier({"NOTIFY_SOCKET": path}))
    tasks = [asyncio.create_task(c) for c in (fast.run(), slow.run(), service.run())]
    try:
        await wait_for(lambda: state(fast) == LaneState.IDLE, 10, fast)
        assert not service.ready.is_set()
        assert not any("READY" in m for m in received(sock))  # L02 is still booting
        async with asyncio.timeout(10):
            await service.ready.wait()
        [ready] = [m for m in received(sock) if "READY" in m]
        assert ready["STATUS"] == "2 lanes: L01 idle, L02 fault"
        fast.world.spawn(fast.world.make_truck())
        await wait_for(lambda: state(fast) == LaneState.ENTERING, 60, fast)
        statuses = [m["STATUS"] for m in received(sock)]
        assert "2 lanes: L01 admitting, L02 fault" in statuses
        assert statuses[-1] == "2 lanes: L01 entering, L02 fault"
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    assert received(sock)[-1]["STOPPING"] == "1"


async def test_the_stall_hook_is_off_unless_set_and_refuses_a_bad_value() -> None:
    assert not install_test_stall({})
    with pytest.raises(ConfigError, match=r"^GATEBRIDGE_TEST_STALL_S: 'soon' is not a number"):
        install_test_stall({"GATEBRIDGE_TEST_STALL_S": "soon"})
