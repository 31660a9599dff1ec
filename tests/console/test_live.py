"""`/stream`: lane events from the socket's follow, and the lanes' fields and queue cards
after each burst; the stream ends when the session does."""

from __future__ import annotations

import json

from tests.console.conftest import Rig, sign_in


def _frames(body: str) -> list[tuple[str, object]]:
    frames = []
    for block in body.strip().split("\n\n"):
        kind, data = (line.split(": ", 1)[1] for line in block.splitlines())
        frames.append((kind, json.loads(data)))
    return frames


def test_the_stream_carries_events_and_status_until_the_session_ends(rig: Rig) -> None:
    with rig.client() as client:
        sign_in(client, "alice")

        def expire_after_two(count: int) -> None:
            if count == 2:
                rig.clock.now += 31 * 60

        rig.gateway.on_status = expire_after_two
        rig.served.push_event({"lane": "L01", "type": "state_changed", "state": "releasing"})
        answer = client.get("/stream")
    assert answer.headers["content-type"].startswith("text/event-stream")
    frames = _frames(answer.text)
    kinds = [kind for kind, _ in frames]
    assert kinds[-1] == "expired"
    assert kinds.count("status") == 2
    assert ("lane-event", {"lane": "L01", "type": "state_changed", "state": "releasing"}) in frames
    status = next(data for kind, data in frames if kind == "status")
    assert isinstance(status, dict)
    assert status["lanes"]["L01"]["state"] == "hold"
    assert status["lanes"]["L01"]["device_scale"] == "STALE: timeout"
    assert [card["id"] for card in status["held"]] == ["tx-0001"]
    assert 'action="/lanes/L01/hold"' in status["held"][0]["html"]
    assert [card["id"] for card in status["approaches"]] == ["L01:identify"]


def test_a_viewers_stream_renders_cards_without_actions(rig: Rig) -> None:
    with rig.client() as client:
        sign_in(client, "victor")
        rig.gateway.on_status = lambda count: setattr(rig.clock, "now", rig.clock.now + 3600)
        frames = _frames(client.get("/stream").text)
    status = next(data for kind, data in frames if kind == "status")
    assert isinstance(status, dict)
    assert "<form" not in status["held"][0]["html"]
