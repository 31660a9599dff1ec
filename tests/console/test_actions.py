"""Actions from the console: one socket request on the person's behalf, with the reason;
the controller's answer on the page; roles as DESIGN section 7; CSRF on every POST."""

from __future__ import annotations

import html

from starlette.testclient import TestClient

from controller.core.types import Role
from tests.console.conftest import Rig, csrf_of, sign_in

RELEASE = {"action": "release", "reason": "seal checked, weight re-declared", "back": "/queue"}


def _post(client: TestClient, path: str, form: dict[str, str]) -> str:
    answer = client.post(path, data={**form, "csrf": csrf_of(client.get("/queue").text)})
    assert answer.status_code == 303, answer.text
    return html.unescape(client.get(answer.headers["location"]).text)


def test_the_queue_shows_the_held_truck_with_its_evidence(rig: Rig) -> None:
    with rig.client() as client:
        sign_in(client, "alice")
        page = html.unescape(client.get("/queue").text)
    assert 'data-held="tx-0001"' in page
    for shown in (
        "E28011000000000000000001",
        "weight out of tolerance: 41250 kg vs declared 30000 kg",
        "30,000 kg",  # declared
        "41,250 kg",  # weighed
        "grant",
        "1 min 05 s",  # waiting: 165 - 100 s on the controller's clock
    ):
        assert shown in page
    assert 'action="/lanes/L01/identify"' in page  # the approach is waiting for a tag


def test_an_officer_releases_through_the_socket_audited_with_the_reason(rig: Rig) -> None:
    with rig.client() as client:
        sign_in(client, "alice")
        page = _post(client, "/lanes/L01/hold", RELEASE)
    assert "L01: release: accepted" in page
    operation, caller = rig.gateway.operated[0]
    assert (operation.action.value, operation.reason) == ("release", RELEASE["reason"])
    assert (caller.user, caller.role) == ("alice via console", Role.OFFICER)
    audited = rig.served.audit.tail(1)[0]
    assert (audited["user"], audited["reason"]) == ("alice via console", RELEASE["reason"])


def test_a_refusal_shows_the_lanes_reason(rig: Rig) -> None:
    rig.gateway.refusals["reset"] = "device data still stale"
    with rig.client() as client:
        sign_in(client, "alice")
        page = _post(client, "/lanes/L01/reset", {"reason": "after repair", "back": "/"})
    assert "L01: reset: refused: device data still stale" in page


def test_a_missing_reason_is_refused_by_the_socket_and_shown(rig: Rig) -> None:
    with rig.client() as client:
        sign_in(client, "alice")
        page = _post(client, "/lanes/L01/hold", {**RELEASE, "reason": ""})
    assert "L01: release: refused: hold.reason:" in page
    assert rig.gateway.operated == []


def test_a_technician_changes_modes_but_cannot_release(rig: Rig) -> None:
    with rig.client() as client:
        sign_in(client, "tina")
        gate = client.get("/").text
        queue = client.get("/queue").text
        mode = _post(client, "/lanes/L01/mode", {"mode": "closed", "reason": "end of shift"})
        release = _post(client, "/lanes/L01/hold", RELEASE)
    assert 'action="/lanes/L01/mode"' in gate
    assert "<option>emergency</option>" not in gate  # emergency is an officer's
    assert 'action="/lanes/L01/hold"' not in queue
    assert "L01: closed: accepted" in mode
    assert "L01: release: refused: release needs an officer" in release


def test_a_viewer_sees_everything_and_can_act_on_nothing(rig: Rig) -> None:
    with rig.client() as client:
        sign_in(client, "victor")
        gate, queue = client.get("/").text, client.get("/queue").text
        page = _post(client, "/lanes/L01/hold", RELEASE)
    assert 'data-held="tx-0001"' in queue
    assert '<form method="post" action="/lanes/' not in gate + queue
    assert "L01: release: refused: viewers cannot operate the lane" in page
    assert rig.gateway.operated == []
    assert rig.served.audit.tail(1)[0]["outcome"] == "refused: viewers cannot operate"


def test_an_action_without_its_csrf_token_never_reaches_the_socket(rig: Rig) -> None:
    with rig.client() as client:
        sign_in(client, "alice")
        missing = client.post("/lanes/L01/hold", data=RELEASE)
        wrong = client.post("/lanes/L01/hold", data={**RELEASE, "csrf": "guessed"})
    assert missing.status_code == wrong.status_code == 403
    assert "CSRF token is missing or wrong" in wrong.text
    assert rig.gateway.operated == []
    assert rig.served.audit.tail(5) == []


def test_a_form_returns_only_to_a_page_of_the_console(rig: Rig) -> None:
    with rig.client() as client:
        sign_in(client, "alice")
        token = csrf_of(client.get("/").text)
        places = ["//evil.example/", "/\\evil.example/", "https://evil.example/", "/queue"]
        answers = [
            client.post("/lanes/L01/hold", data={**RELEASE, "back": back, "csrf": token})
            for back in places
        ]
    assert [a.headers["location"] for a in answers] == ["/", "/", "/", "/queue"]


def test_the_audit_page_shows_the_chain_verified(rig: Rig) -> None:
    with rig.client() as client:
        sign_in(client, "alice")
        _post(client, "/lanes/L01/hold", RELEASE)
        page = html.unescape(client.get("/audit").text)
    assert "Chain verified: 1 line(s), intact." in page
    assert "alice via console" in page
    lines = rig.served.audit.path.read_text().splitlines()
    rig.served.audit.path.write_text(lines[0].replace("release", "reject") + "\n")
    rig.served.audit.append({"action": "reset"})  # chains onto what it wrote, not the edit
    with rig.client() as client:
        sign_in(client, "alice")
        broken = html.unescape(client.get("/audit").text)
    assert "Chain BROKEN at line 2" in broken


def test_the_lane_history_lists_its_events(rig: Rig) -> None:
    with rig.client() as client:
        sign_in(client, "victor")
        page = client.get("/lanes/L01").text
    assert "<td>state_changed</td>" in page


def test_an_officer_identifies_the_vehicle_at_the_approach(rig: Rig) -> None:
    form = {"tag": "e28011000000000000000007", "reason": "tag unreadable, plate checked"}
    with rig.client() as client:
        sign_in(client, "alice")
        page = _post(client, "/lanes/L01/identify", {**form, "back": "/queue"})
    assert "L01: identify: accepted" in page
    operation, caller = rig.gateway.operated[0]
    assert (operation.action.value, operation.tag) == ("identify", "E28011000000000000000007")
    assert caller.user == "alice via console"


TAILGATING = {"text": "a second vehicle followed onto the deck", "acknowledged": False}


def test_an_officer_acknowledges_a_standing_alarm_from_the_lane_page(rig: Rig) -> None:
    rig.served.gateway.lanes[0]["alarms"] = {"tailgating": TAILGATING}
    with rig.client() as client:
        sign_in(client, "alice")
        page = html.unescape(client.get("/lanes/L01").text)
        assert "a second vehicle followed onto the deck" in page
        assert 'name="alarm" value="tailgating"' in page
        form = {"alarm": "tailgating", "reason": "driver spoken to", "back": "/lanes/L01"}
        answered = _post(client, "/lanes/L01/ack", form)
    assert "L01: ack tailgating: accepted" in answered
    operation, caller = rig.served.gateway.operated[0]
    assert (operation.action.value, operation.args) == ("ack", {"alarm": "tailgating"})
    assert (operation.reason, caller.user) == ("driver spoken to", "alice via console")


def test_a_viewer_sees_the_alarms_but_cannot_acknowledge(rig: Rig) -> None:
    rig.served.gateway.lanes[0]["alarms"] = {"tailgating": TAILGATING}
    with rig.client() as client:
        sign_in(client, "victor")
        page = html.unescape(client.get("/lanes/L01").text)
    assert "a second vehicle followed onto the deck" in page
    assert 'value="tailgating"' not in page
    assert rig.served.gateway.operated == []
