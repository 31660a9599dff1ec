"""The vehicle held at an approach for an officer (issue 15): the queue shows its stage
and, for an identity mismatch or a plate-only clearance, the camera's evidence beside
the plate the clearance names, with Confirm and Refuse forms (CSRF, reason) that become
one `approach` request naming the clearance request the card showed."""

from __future__ import annotations

import hashlib
import html
import json

from starlette.testclient import TestClient

from controller.core.types import OperatorAction, Role
from emulators.camera.snapshot import render_plate
from tests.console.conftest import Rig, csrf_of, sign_in

SHA = "5f" * 32
MISMATCH = {
    "stage": "identity_mismatch",
    "tag": "E28011000000000000000009",
    "plate": "29C12345",
    "plate_confidence": 0.934,
    "expected_plate": "29C12845",
    "snapshot_sha256": SHA,
    "request_id": "req-0007",
}


def _queue(client: TestClient) -> str:
    return html.unescape(client.get("/queue").text)


def _post(client: TestClient, form: dict[str, str]) -> str:
    token = csrf_of(client.get("/queue").text)
    answer = client.post("/lanes/L01/approach", data={**form, "csrf": token, "back": "/queue"})
    assert answer.status_code == 303, answer.text
    return html.unescape(client.get(answer.headers["location"]).text)


def test_a_mismatch_shows_the_evidence_and_confirm_refuse_forms(rig: Rig) -> None:
    rig.gateway.lanes[0]["approach"] = dict(MISMATCH)
    with rig.client() as client:
        sign_in(client, "alice")
        page = _queue(client)
    assert "L01 approach · identity_mismatch" in page
    for shown in ("E28011000000000000000009", "29C12345", "0.93", "29C12845", SHA, "req-0007"):
        assert shown in page
    assert page.count('action="/lanes/L01/approach"') == 2
    assert 'name="action" value="confirm"' in page
    assert 'name="action" value="refuse"' in page
    assert page.count('name="request_id" value="req-0007"') == 2
    assert 'action="/lanes/L01/identify"' not in page  # identified already: decide, not identify


def test_an_officer_confirms_naming_the_request_the_card_showed(rig: Rig) -> None:
    rig.gateway.lanes[0]["approach"] = dict(MISMATCH)
    form = {
        "action": "confirm",
        "reason": "plate checked, camera misread",
        "request_id": "req-0007",
    }
    with rig.client() as client:
        sign_in(client, "alice")
        page = _post(client, form)
    assert "L01: confirm: accepted" in page
    [(operation, caller)] = rig.gateway.operated
    assert (operation.action, operation.reason) == (OperatorAction.CONFIRM, form["reason"])
    assert operation.args == {"request_id": "req-0007"}
    assert (caller.user, caller.role) == ("alice via console", Role.OFFICER)
    audited = rig.served.audit.tail(1)[0]
    assert (audited["action"], audited["request_id"]) == ("confirm", "req-0007")


def test_the_flat_status_keys_and_missing_ones_are_tolerated(rig: Rig) -> None:
    lane = rig.gateway.lanes[0]
    lane["approach"] = "awaiting_confirmation"  # the status as it is today: no evidence yet
    with rig.client() as client:
        sign_in(client, "alice")
        page = _queue(client)
        refused = _post(client, {"action": "refuse", "reason": "not the truck on the manifest"})
    assert "L01 approach · awaiting_confirmation" in page
    assert "none read" in page
    assert "none named" in page
    assert 'name="request_id"' not in page
    assert "L01: refuse: accepted" in refused
    [(operation, _)] = rig.gateway.operated
    assert (operation.action, operation.args) == (OperatorAction.REFUSE, {})


def test_flat_evidence_keys_are_shown(rig: Rig) -> None:
    lane = rig.gateway.lanes[0]
    lane.update(approach="awaiting_confirmation", approach_plate="29C12345")
    lane.update(approach_plate_confidence=0.5, approach_request_id="req-9")
    with rig.client() as client:
        sign_in(client, "alice")
        page = _queue(client)
    assert "29C12345" in page
    assert "0.50" in page
    assert 'name="request_id" value="req-9"' in page


def test_a_bad_action_or_missing_reason_is_refused_by_the_socket(rig: Rig) -> None:
    rig.gateway.lanes[0]["approach"] = dict(MISMATCH)
    with rig.client() as client:
        sign_in(client, "alice")
        bad = _post(client, {"action": "admit", "reason": "because"})
        short = _post(client, {"action": "confirm", "reason": ""})
    assert "L01: admit: refused: approach.action:" in bad
    assert "L01: confirm: refused: approach.reason:" in short
    assert rig.gateway.operated == []


def test_a_technician_and_a_viewer_see_the_evidence_but_cannot_decide(rig: Rig) -> None:
    rig.gateway.lanes[0]["approach"] = dict(MISMATCH)
    with rig.client() as client:
        sign_in(client, "victor")
        viewer = _queue(client)
    with rig.client() as client:
        sign_in(client, "tina")
        technician = _queue(client)
        refused = _post(client, {"action": "confirm", "reason": "looks fine"})
    for page in (viewer, technician):
        assert "29C12845" in page
        assert 'action="/lanes/L01/approach"' not in page
    assert "L01: confirm: refused: confirm needs an officer" in refused


def test_the_live_card_is_keyed_by_the_vehicle_and_what_it_asks(rig: Rig) -> None:
    rig.gateway.lanes[0]["approach"] = dict(MISMATCH)
    with rig.client() as client:
        sign_in(client, "alice")
        rig.gateway.on_status = lambda count: setattr(rig.clock, "now", rig.clock.now + 3600)
        body = client.get("/stream").text
    status = next(
        json.loads(block.split("data: ", 1)[1])
        for block in body.split("\n\n")
        if block.startswith("event: status")
    )
    [card] = status["approaches"]
    assert card["id"] == "L01:decide:req-0007"
    assert 'data-card="L01:decide:req-0007"' in card["html"]
    assert status["lanes"]["L01"]["approach"] == "identity_mismatch"


def test_the_evidence_is_escaped(rig: Rig) -> None:
    rig.gateway.lanes[0]["approach"] = {**MISMATCH, "plate": "<b>29C</b>", "request_id": '"x'}
    with rig.client() as client:
        sign_in(client, "alice")
        raw = client.get("/queue").text
    assert "<b>29C</b>" not in raw
    assert "&lt;b&gt;29C&lt;/b&gt;" in raw
    assert 'value=""x"' not in raw


def test_the_card_shows_the_snapshot_and_the_console_serves_it_from_the_controller(
    rig: Rig,
) -> None:
    jpeg = render_plate("29C12345")
    sha = hashlib.sha256(jpeg).hexdigest()
    rig.gateway.lanes[0]["approach"] = {**MISMATCH, "snapshot_sha256": sha}
    rig.gateway.snapshots[sha] = jpeg
    with rig.client() as client:
        assert client.get(f"/snapshots/{sha}.jpg", follow_redirects=False).status_code == 303
        sign_in(client, "alice")
        assert f'<img src="/snapshots/{sha}.jpg"' in client.get("/queue").text
        answer = client.get(f"/snapshots/{sha}.jpg")
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"] == "image/jpeg"
        assert answer.content == jpeg
        missing = client.get(f"/snapshots/{'0' * 64}.jpg")
        assert missing.status_code == 404
        assert "no snapshot" in missing.text
        assert client.get("/snapshots/..%2F..%2Fetc.jpg").status_code == 404
