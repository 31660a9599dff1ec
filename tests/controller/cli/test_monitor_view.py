"""The monitor's screen, rendered at 80x24 from status answers and events: it fits,
shrinks and counts lanes it cannot show, says when the controller is unreachable, and
shows device text literally (no markup injection from the socket)."""

from __future__ import annotations

import io

from rich.console import Console

from controller.cli.monitor_view import MonitorState, render

NOW = 1000.0


def lane(lane_id: str = "L01", **changes: object) -> dict[str, object]:
    snapshot: dict[str, object] = {
        "lane": lane_id,
        "state": "weighing",
        "lights": {"entry": "red", "exit": "green"},
        "barriers": {"entry": "closed", "exit": "open"},
        "deck_kg": 24500.0,
        "deck_vehicle": "E2801100000000000000000A",
        "deck_transaction": "t-1",
        "hold_reason": "",
        "approach": None,
        "latched_fault": None,
        "alarms": {"clock": "skew 40 s", "journal": "backlog"},
        "devices": {
            "io": {"healthy": True, "last_ok": NOW - 0.3, "error": ""},
            "scale": {"healthy": False, "last_ok": NOW - 7.5, "error": "timeout"},
            "rfid": {"healthy": False, "last_ok": None, "error": ""},
        },
    }
    snapshot.update(changes)
    return snapshot


def screen(state: MonitorState, width: int = 80, height: int = 24) -> list[str]:
    out = io.StringIO()
    console = Console(file=out, width=width, height=height, color_system=None)
    console.print(render(state, width, height, NOW, "12:00:00"))
    return out.getvalue().splitlines()


def reachable(*lanes: dict[str, object]) -> MonitorState:
    state = MonitorState("/run/gatebridge/gatectl.sock")
    state.status_received({"lanes": list(lanes)}, NOW)
    return state


def test_one_lane_shows_state_lights_deck_devices_and_ages_within_80x24() -> None:
    lines = screen(reachable(lane()))
    text = "\n".join(lines)
    assert len(lines) <= 24
    assert all(len(line) <= 80 for line in lines)
    assert "L01 WEIGHING" in text
    assert "entry  RED  closed" in text
    assert "exit  GREEN  open" in text
    assert "deck 24,500 kg" in text
    assert "vehicle E2801100000000000000000A" in text
    assert "io ok 0.3s" in text
    assert "alarms clock: skew 40 s; journal: backlog  vehicle" in text
    assert "scale STALE 7.5s" in text
    assert "rfid STALE never" in text


def test_the_last_transactions_follow_the_events_newest_first() -> None:
    state = reachable(lane())
    for tx, tag in (("0001-000001", "AAAA0001"), ("0001-000002", "BBBB0002")):
        state.event_received({"lane": "L01", "type": "vehicle_admitted",
                              "transaction_id": tx, "tag": tag})  # fmt: skip
    weighed = {"type": "weight_captured", "transaction_id": "0001-000001", "gross_kg": 31000}
    state.event_received({"lane": "L01", **weighed})
    state.event_received({"lane": "L01", "type": "transaction_committed",
                          "transaction_id": "0001-000001"})  # fmt: skip
    last = next(line for line in screen(state) if line.startswith("  last"))
    assert last == "  last 000002 BBBB0002 admitted | 000001 AAAA0001 31,000 kg committed"


def test_many_lanes_shrink_then_the_rest_are_counted() -> None:
    lines = screen(reachable(*(lane(f"L{n:02d}") for n in range(1, 21))))
    assert len(lines) == 24
    assert sum(line.startswith("L") for line in lines) == 11  # two lines per lane
    assert lines[-1] == "... 9 more lane(s): enlarge the terminal"


def test_an_unreachable_controller_is_said_and_the_last_picture_kept_with_its_age() -> None:
    state = reachable(lane())
    state.unreachable("No such file or directory")
    lines = screen(state)
    assert lines[1] == "controller unreachable, retrying: No such file or directory"
    assert lines[2] == "last seen 0 s ago:"
    assert "io ok 0.3s" in "\n".join(lines)  # ages frozen at the last good status


def test_text_from_the_socket_is_shown_literally_and_cut_at_the_width() -> None:
    lines = screen(reachable(lane(alarms={"[bold]x" + "y" * 200: "long"})), width=40)
    alarms = next(line for line in lines if "alarms" in line)
    assert alarms.startswith("  alarms [bold]xyyy")
    assert alarms.endswith("…")
    assert all(len(line) <= 40 for line in lines)


def test_nonsense_in_a_status_answer_shows_as_unknown_not_a_crash() -> None:
    state = MonitorState("/s")
    odd = lane(deck_kg="heavy", lights=[], devices={"io": 7})
    state.status_received({"lanes": [odd, {"no": "lane"}, 3]}, NOW)
    text = "\n".join(screen(state))
    assert "deck ? kg" in text
    assert "io STALE never" in text
    assert "? ?" in text


def test_a_refusal_is_told_apart_from_an_unreachable_controller() -> None:
    state = reachable(lane())
    state.refused("user bob has no gatebridge role")
    assert screen(state)[1] == "the controller refuses the status: user bob has no gatebridge role"
    state.unreachable("Connection refused")
    assert screen(state)[1] == "controller unreachable, retrying: Connection refused"
