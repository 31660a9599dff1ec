"""One controller per gateway and per device endpoint (issue 17 item 3), with real
processes: a second `gatectl run` on a config whose gateway or devices a running one owns
is refused with one line naming the pid and the lock, exit 1, and the first controller's
maintenance socket still answers. Waits are on conditions with timeouts."""

from __future__ import annotations

import asyncio
from pathlib import Path

import yaml

from tests.e2e.test_emulate_and_run import free_port, gatectl, lane_config, process


async def test_a_second_run_is_refused_and_the_first_stays_reachable(tmp_path: Path) -> None:
    port = free_port()
    config = lane_config(tmp_path, port)
    sock = tmp_path / "gatectl.sock"
    control = tmp_path / "emulate.sock"
    async with (
        process("emulate", "--config", str(config), "--control", str(control), ready="ready"),
        process("run", "--config", str(config), ready="running") as first,
    ):
        code, out = await gatectl("run", "--config", str(config))
        assert code == 1, out
        lines = out.strip().splitlines()
        lock = tmp_path / "gateway-gw-01.lock"
        assert lines == [f"error: gateway gw-01 already run by pid {first.pid} (lock {lock})"]
        assert sock.is_socket()
        code, out = await gatectl("status", "--json", "--socket", str(sock))
        assert code == 0, out
        assert '"lane": "L01"' in out
        assert first.returncode is None


async def test_another_gateway_on_the_same_devices_is_refused(tmp_path: Path) -> None:
    """A config naming another gateway, its own socket, but the first one's I/O module:
    the endpoint lock refuses it, naming the endpoint and where the config names it."""
    config = lane_config(tmp_path, free_port())
    other = yaml.safe_load(config.read_text())
    other.update(gateway="gw-02", socket=str(tmp_path / "other.sock"))
    other["journal"] = str(tmp_path / "other.db")
    other_config = tmp_path / "other.yaml"
    other_config.write_text(yaml.safe_dump(other))
    async with process("run", "--config", str(config), ready="running") as first:
        code, out = await gatectl("run", "--config", str(other_config))
    assert code == 1, out
    io = yaml.safe_load(config.read_text())["lanes"][0]["io"]["url"]
    assert f"endpoint {io} (lanes.L01.io) already driven by pid {first.pid}" in out
    assert not (tmp_path / "other.sock").exists()  # refused before touching anything


async def test_a_stale_socket_of_a_killed_controller_does_not_block_a_restart(
    tmp_path: Path,
) -> None:
    """kill -9 leaves the socket file and the lock files behind: the kernel released the
    locks, the socket is probed as stale, and the next run starts."""
    config = lane_config(tmp_path, free_port())
    async with process("run", "--config", str(config), ready="running") as first:
        first.kill()
        async with asyncio.timeout(10):
            await first.wait()
    assert (tmp_path / "gatectl.sock").exists()
    async with process("run", "--config", str(config), ready="running"):
        code, out = await gatectl("status", "--socket", str(tmp_path / "gatectl.sock"))
    assert code == 0, out
