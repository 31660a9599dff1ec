"""The monitor's side of the maintenance socket, against a socket served in this test:
status polls (a large one included), a refusal, a missing controller, and the followed
events that make the transaction lines."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from controller.cli.monitor import _follow, _poll
from controller.cli.monitor_view import MonitorState

Answer = Callable[[dict[str, object]], list[dict[str, object]]]


@asynccontextmanager
async def controller(path: Path, answer: Answer) -> AsyncIterator[None]:
    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            request = json.loads(await reader.readline())
            for line in answer(request):
                writer.write(json.dumps(line).encode() + b"\n")
            await writer.drain()
        writer.close()

    server = await asyncio.start_unix_server(serve, path=str(path))
    async with server:
        yield


def lanes(count: int) -> dict[str, object]:
    alarm = {"stall": "x" * 400}  # about 500 bytes a lane
    return {
        "lanes": [{"lane": f"L{n:03d}", "state": "idle", "alarms": alarm} for n in range(count)]
    }


async def test_a_status_of_many_lanes_over_64_kib_is_read(tmp_path: Path) -> None:
    path, state = tmp_path / "s.sock", MonitorState("s")
    async with controller(path, lambda _req: [{"ok": True, "data": lanes(300)}]):
        await _poll(path, state)
    assert state.reachable, state.error
    assert len(state.lanes) == 300


async def test_refused_unreachable_and_back(tmp_path: Path) -> None:
    path, state = tmp_path / "s.sock", MonitorState("s")
    await _poll(path, state)
    assert not state.reachable
    assert state.banner == "controller unreachable, retrying"
    refusal = {"ok": False, "error": "user bob has no gatebridge role"}
    async with controller(path, lambda _req: [refusal]):
        await _poll(path, state)
    assert state.banner == "the controller refuses the status"
    assert state.error == "user bob has no gatebridge role"
    async with controller(path, lambda _req: [{"ok": True, "data": lanes(1)}]):
        await _poll(path, state)
    assert state.reachable


async def test_followed_events_become_the_lane_s_transactions(tmp_path: Path) -> None:
    path, state = tmp_path / "s.sock", MonitorState("s")
    events = [
        {"lane": "L01", "type": "vehicle_admitted", "transaction_id": "t-1", "tag": "AB"},
        {"lane": "L01", "type": "transaction_committed", "transaction_id": "t-1"},
    ]
    requests: list[dict[str, object]] = []

    def answer(request: dict[str, object]) -> list[dict[str, object]]:
        requests.append(request)
        return [{"ok": True, "data": event} for event in events]

    async with controller(path, answer):
        follower = asyncio.create_task(_follow(path, state))
        async with asyncio.timeout(5):
            while "L01" not in state.transactions or not requests:  # noqa: ASYNC110 - another task fills it
                await asyncio.sleep(0.01)
        follower.cancel()
        await asyncio.gather(follower, return_exceptions=True)
    assert requests[0] == {"op": "events", "follow": True, "last": 200}
    view = state.transactions["L01"]["t-1"]
    assert (view.tag, view.stage) == ("AB", "committed")
