"""`gatectl monitor` in a real 80x24 terminal (tmux on a private socket) against a running
controller with emulated devices: lanes live, the last transactions, "controller
unreachable, retrying" while the controller is gone and back when it returns, `q` quits
and leaves the terminal as it was. Waits poll the pane with timeouts, never fixed sleeps."""

from __future__ import annotations

import asyncio
import signal
import sys
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from tests.e2e.test_emulate_and_run import ROOT, free_port, lane_config, process


class Tmux:
    """One tmux server of our own (-L), one 80x24 session in it."""

    def __init__(self) -> None:
        self.server = f"gatebridge-test-{uuid.uuid4().hex[:8]}"

    async def run(self, *args: str) -> str:
        proc = await asyncio.create_subprocess_exec(
            "tmux", "-L", self.server, "-f", "/dev/null", *args,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        out, _ = await proc.communicate()
        assert proc.returncode == 0, f"tmux {args[0]}: {out.decode()}"
        return out.decode()

    async def pane(self) -> str:
        return await self.run("capture-pane", "-p", "-t", "mon")

    async def until(self, wanted: Callable[[str], bool], timeout_s: float = 30.0) -> str:
        shown = ""
        try:
            async with asyncio.timeout(timeout_s):
                while not wanted(shown := await self.pane()):  # noqa: ASYNC110 - polling another process, by design
                    await asyncio.sleep(0.1)
        except TimeoutError:
            raise AssertionError(f"the pane never showed what was expected:\n{shown}") from None
        return shown

    async def kill(self) -> None:
        proc = await asyncio.create_subprocess_exec(
            "tmux", "-L", self.server, "kill-server",
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        await proc.wait()


@asynccontextmanager
async def monitor_in_tmux(sock: Path, done: Path) -> AsyncIterator[Tmux]:
    tmux = Tmux()
    script = (
        f"{sys.executable} -m controller.cli.main monitor --socket {sock} --interval 0.3; "
        f'echo "rc=$?" > {done}.tmp; stty -a >> {done}.tmp; mv {done}.tmp {done}'
    )
    await tmux.run(
        "new-session", "-d", "-s", "mon", "-x", "80", "-y", "24", "-c", str(ROOT), script
    )
    await tmux.run("set-option", "-t", "mon", "remain-on-exit", "on")
    try:
        yield tmux
    finally:
        await tmux.kill()


def showing(*texts: str) -> Callable[[str], bool]:
    return lambda pane: all(text in pane for text in texts)


async def file_appears(path: Path, timeout_s: float = 15.0) -> str:
    async with asyncio.timeout(timeout_s):
        while not await asyncio.to_thread(path.exists):  # noqa: ASYNC110 - another process writes it
            await asyncio.sleep(0.05)
    return await asyncio.to_thread(path.read_text)


async def test_monitor_shows_the_lane_survives_a_controller_restart_and_quits_on_q(
    tmp_path: Path,
) -> None:
    config = lane_config(tmp_path, free_port())
    sock, done = tmp_path / "gatectl.sock", tmp_path / "monitor.done"
    emulate = ("emulate", "--config", str(config), "--time-scale", "8", "--saturate", "1")
    controls = ("--control", str(tmp_path / "emulate.sock"))
    async with process(*emulate, *controls, ready="ready"), monitor_in_tmux(sock, done) as tmux:
        async with process("run", "--config", str(config), ready="running") as controller:
            pane = await tmux.until(showing("L01", "io ok", "scale ok", "rfid ok"))
            assert "entry" in pane
            assert "deck" in pane
            pane = await tmux.until(showing("committed"), timeout_s=60)
            lines = pane.splitlines()
            assert len(lines) <= 24
            assert all(len(line) <= 80 for line in lines)
            controller.send_signal(signal.SIGTERM)
            await tmux.until(showing("controller unreachable, retrying"))
        async with process("run", "--config", str(config), ready="running"):
            pane = await tmux.until(lambda p: "unreachable" not in p and "io ok" in p)
            assert "L01" in pane
            await tmux.run("send-keys", "-t", "mon", "q")
            report = await file_appears(done)
            pane = await tmux.pane()
            alternate = await tmux.run("display-message", "-p", "-t", "mon", "#{alternate_on}")
    assert report.startswith("rc=0")
    # cbreak undone: canonical input and echo are back on the terminal
    settings = report.split()
    assert "icanon" in settings
    assert "echo" in settings
    assert "-icanon" not in settings
    assert "-echo" not in settings
    assert alternate.strip() == "0"  # back from the alternate screen
    assert "gatebridge monitor" not in pane  # the live view went with it
