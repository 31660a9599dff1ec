"""The lane camera in production shape: `gatectl emulate` serves the lane and its entry
camera, which POSTs plate reads over HTTP to the real listener of `gatectl run`, in two
processes, in real time with the emulators' --time-scale. A truck carrying another
truck's tag is held at the approach (its plate is not the one on file for the tag)
before it reaches the deck, with the read's snapshot stored, and an officer's `gatectl
refuse` turns it away. Waits are on conditions with timeouts, never fixed sleeps."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

import yaml

from tests.e2e.console_stack import control
from tests.e2e.test_emulate_and_run import free_port, gatectl, lane_config, process

SECRET = "camera-secret-for-the-e2e-test-0123"  # noqa: S105 - a test token


def camera_config(tmp: Path, io_port: int, camera_port: int) -> Path:
    path = lane_config(tmp, io_port)
    document = yaml.safe_load(path.read_text())
    (tmp / "camera.secret").write_text(SECRET + "\n")
    document["lanes"][0]["camera"] = {
        "listen": f"127.0.0.1:{camera_port}",
        "entry": {"id": "L01-entry", "secret_file": str(tmp / "camera.secret")},
        "plate_wait_ms": 1500,
    }
    document["clearance"]["manifest"] = str(tmp / "manifest.yaml")
    path.write_text(yaml.safe_dump(document))
    return path


def write_manifest(tmp: Path, trucks: list[dict[str, object]]) -> None:
    """The central system's papers: each tag with the plate its papers name."""
    entries = {str(t["tag"]): {"decision": "grant", "plate": t["papers_plate"]} for t in trucks}
    (tmp / "manifest.yaml").write_text(yaml.safe_dump(entries))


async def until_event(sock: Path, wanted: Callable[[dict[str, object]], bool]) -> dict[str, object]:
    """Follow the lane's journaled events on the maintenance socket until one is wanted."""
    reader, writer = await asyncio.open_unix_connection(str(sock))
    writer.write(b'{"op": "events", "follow": true, "last": 1000}\n')  # and the recent
    await writer.drain()
    try:
        while True:
            line = await reader.readline()
            assert line, "the controller closed its socket"
            data = json.loads(line)["data"]
            if wanted(data):
                return dict(data)
    finally:
        writer.close()


async def turned_away(control_path: Path) -> None:
    while True:
        lanes = control(control_path, {"op": "status"})["lanes"]
        assert isinstance(lanes, dict)
        if lanes["L01"]["turned_away"] >= 1:
            return
        await asyncio.sleep(0.2)  # polling the emulator's status: the condition is its count


async def test_a_swapped_tag_is_held_at_the_approach_over_the_real_listener(tmp_path: Path) -> None:
    config = camera_config(tmp_path, free_port(), free_port())
    emulator, sock = tmp_path / "emulate.sock", tmp_path / "gatectl.sock"
    async with process(
        "emulate",
        "--config",
        str(config),
        "--time-scale",
        "4",
        "--control",
        str(emulator),
        ready="ready",
    ):
        honest = control(emulator, {"op": "spawn", "lane": "L01", "behaviour": "obey"})
        swapped = control(emulator, {"op": "spawn", "lane": "L01", "behaviour": "swapped_tag"})
        assert swapped["plate"] != swapped["papers_plate"]
        write_manifest(tmp_path, [honest, swapped])
        async with process("run", "--config", str(config), ready="running"):
            async with asyncio.timeout(120):
                held = await until_event(
                    sock,
                    lambda e: e.get("type") == "identity_checked" and e.get("verdict") == "hold",
                )
            assert held["tag"] == swapped["tag"]
            admitted = await until_event(
                sock,
                lambda e: e.get("type") == "vehicle_admitted" and e.get("tag") == honest["tag"],
            )
            assert admitted["transaction_id"]  # the truck whose plate is its papers' went on
            assert (held["plate"], held["expected_plate"]) == (
                swapped["plate"],
                swapped["papers_plate"],
            )
            code, out = await gatectl("status", "--json", "--socket", str(sock))
            assert code == 0, out
            [lane] = json.loads(out)["data"]["lanes"]
            assert lane["approach"] == "identity_mismatch"
            assert lane["approach_plate"] == swapped["plate"]
            assert lane["deck_vehicle"] != swapped["tag"]  # it never reached the deck
            assert "identity_mismatch" in lane["alarms"]
            sha = str(held["snapshot_sha256"])
            snapshot = tmp_path / "journal.snapshots" / sha[:2] / f"{sha}.jpg"
            assert snapshot.read_bytes().startswith(b"\xff\xd8\xff")  # the read's JPEG, kept
            code, out = await gatectl(
                "refuse", "L01", "--reason", "plate is not on the papers", "--socket", str(sock)
            )
            assert code == 0, out
            async with asyncio.timeout(60):
                await until_event(sock, lambda e: e.get("type") == "vehicle_refused")
                await turned_away(emulator)
    with sqlite3.connect(tmp_path / "journal.db") as db:
        tags = {
            row[0] for row in db.execute("SELECT json_extract(record, '$.tag') FROM transactions")
        }
    assert swapped["tag"] not in tags  # no transaction: it was never admitted
