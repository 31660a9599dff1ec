"""The real controller as systemd would run it: `gatectl run` on an emulated lane with
$NOTIFY_SOCKET and $WATCHDOG_USEC pointing at a datagram socket the test binds (systemd is
not PID 1 here). It reports READY once the lane booted, pings WATCHDOG from its event
loop, goes quiet while the loop is blocked (the test-only SIGUSR2 stall) and says
STOPPING on SIGTERM. Real time, short timings, waits on datagrams with timeouts."""

from __future__ import annotations

import asyncio
import itertools
import signal
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.test_emulate_and_run import free_port, lane_config, process

WATCHDOG_S = 1.5  # WatchdogSec: pings every 0.75 s
STALL_S = 3.0


class Manager:
    """The service manager's end: datagrams with their arrival times (loop clock)."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock

    async def next(self, timeout: float = 60) -> tuple[float, dict[str, str]]:
        loop = asyncio.get_running_loop()
        async with asyncio.timeout(timeout):
            data = await loop.sock_recv(self.sock, 4096)
        fields = dict(line.split("=", 1) for line in data.decode().splitlines())
        return loop.time(), fields

    async def until(self, key: str, timeout: float = 60) -> tuple[float, dict[str, str]]:
        async with asyncio.timeout(timeout):
            while True:
                at, fields = await self.next()
                if key in fields:
                    return at, fields

    async def pings(self, count: int) -> list[float]:
        return [(await self.until("WATCHDOG", timeout=STALL_S * 3))[0] for _ in range(count)]


@pytest.fixture
def manager(tmp_path: Path) -> Iterator[Manager]:
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(tmp_path / "notify"))
        sock.setblocking(False)
        yield Manager(sock)


async def test_ready_watchdog_stall_and_stopping(
    tmp_path: Path, manager: Manager, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = lane_config(tmp_path, free_port())
    async with process(
        "emulate", "--config", str(config), "--control", str(tmp_path / "em.sock"), ready="ready"
    ):
        monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "notify"))
        monkeypatch.setenv("WATCHDOG_USEC", str(int(WATCHDOG_S * 1_000_000)))
        monkeypatch.setenv("GATEBRIDGE_TEST_STALL_S", str(STALL_S))
        async with process("run", "--config", str(config), ready="running") as controller:
            _, ready = await manager.until("READY")
            assert ready["STATUS"].startswith("1 lane: L01 ")
            assert "booting" not in ready["STATUS"]
            steady = await manager.pings(4)
            gaps = [b - a for a, b in itertools.pairwise(steady)]
            assert max(gaps) < WATCHDOG_S  # systemd would be content

            controller.send_signal(signal.SIGUSR2)  # block the loop for STALL_S
            around = await manager.pings(4)
            gaps = [b - a for a, b in itertools.pairwise([steady[-1], *around])]
            assert max(gaps) > STALL_S * 0.8  # silent while stalled: systemd would restart it
            assert max(gaps) > WATCHDOG_S

            controller.send_signal(signal.SIGTERM)
            _, stopping = await manager.until("STOPPING", timeout=10)
            assert stopping["STOPPING"] == "1"
            async with asyncio.timeout(10):
                assert await controller.wait() == 0
