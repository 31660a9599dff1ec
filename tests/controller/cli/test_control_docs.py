"""The emulator's control channel as docs/devices.md documents it (issue 17 item 15): every
documented socat line, run as written against the control socket of an emulation of the
example config, is accepted; and a bad request is refused naming its field."""

from __future__ import annotations

import asyncio
import json
import re
import signal
import sys
from pathlib import Path

from controller.cli.emulate import Emulation, _client
from controller.config.load import load_config
from tests.e2e.test_emulate_and_run import free_port, lane_config

ROOT = Path(__file__).resolve().parents[3]
DOC = ROOT / "docs/devices.md"


def documented_commands() -> list[str]:
    text = DOC.read_text()
    section = text.split("## The emulator's control channel", 1)[1].split("\n## ", 1)[0]
    return [line for line in section.splitlines() if re.match(r"echo '.*' \| socat ", line)]


def emulation() -> Emulation:
    return Emulation(load_config(ROOT / "deploy/examples/emulated-lane.yaml"), 4.0, seed=1)


def test_the_doc_shows_each_request_kind_and_behaviour() -> None:
    commands = documented_commands()
    requests = [json.loads(line.split("'")[1]) for line in commands]
    assert {r["op"] for r in requests} == {"status", "spawn", "fault"}
    behaviours = {r["behaviour"] for r in requests if "behaviour" in r}
    assert behaviours == {
        "tailgate",
        "half_on_deck",
        "stop_under_arm",
        "reverse_off_deck",
        "swapped_tag",
        "dead_tag",
    }
    devices = {r["device"] for r in requests if r["op"] == "fault"}
    assert devices == {"io", "entry_barrier", "exit_barrier", "scale", "rfid"}


async def test_every_documented_command_is_accepted(tmp_path: Path) -> None:
    sock = tmp_path / "emulate.sock"
    server = await asyncio.start_unix_server(_client(emulation()), path=str(sock))
    try:
        for line in documented_commands():
            proc = await asyncio.create_subprocess_shell(
                f"S={sock}; {line}", stdout=asyncio.subprocess.PIPE
            )
            async with asyncio.timeout(10):
                out, _ = await proc.communicate()
            answer = json.loads(out)
            assert answer["ok"] is True, (line, answer)
    finally:
        server.close()
        await server.wait_closed()


def test_a_bad_request_is_refused_naming_the_field() -> None:
    answer = emulation().handle(b'{"op": "spawn", "lane": "L01", "behaviour": "speed"}')
    assert answer["ok"] is False
    assert str(answer["error"]).startswith("spawn.behaviour")
    unknown = emulation().handle(b'{"op": "spawn", "lane": "L09"}')
    assert unknown == {"ok": False, "error": "lane: no lane 'L09'"}


async def test_the_control_socket_follows_the_config(tmp_path: Path) -> None:
    config = lane_config(tmp_path, free_port())
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "controller.cli.main", "emulate", "--config", str(config),
        cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    assert proc.stdout is not None
    try:
        async with asyncio.timeout(30):
            while not (line := (await proc.stdout.readline()).decode()).startswith("control "):
                assert line, "emulate ended before it served its control socket"
        assert line.split(" ", 1)[1].strip() == str(
            tmp_path / "emulate.sock"
        )  # beside gatectl.sock
    finally:
        proc.send_signal(signal.SIGTERM)
        async with asyncio.timeout(10):
            await proc.wait()
