"""The socket's delegation: `on_behalf` believed only from a peer in the console group,
the role capped, the action audited as "USER via console" with its reason. The test
process runs as root, in the group `root`: that group plays the console's."""

from __future__ import annotations

import json
from pathlib import Path

from controller.cli.client import request
from controller.core.types import Role
from controller.maintenance.delegation import capped
from tests.console.fake_gateway import FakeGateway, serve_socket

RELEASE = {"op": "hold", "lane": "L01", "action": "release", "reason": "seal checked"}
ALICE = {"user": "alice", "role": "officer"}


def test_a_peer_outside_the_console_group_cannot_act_for_another(tmp_path: Path) -> None:
    gateway = FakeGateway()
    with serve_socket(tmp_path, gateway, console_group="gatebridge-console") as served:
        answer = request(served.path, {**RELEASE, "on_behalf": ALICE})
        status = request(served.path, {"op": "status", "on_behalf": ALICE})
        entries = served.audit.tail(10)
    assert answer["ok"] is False
    assert answer["error"] == (
        "on_behalf: refused: root is not in the console group 'gatebridge-console'; "
        "only the console acts on behalf of others"
    )
    assert status["ok"] is False  # reads too: the name is not borrowed for anything
    assert gateway.operated == []  # the lane never saw it
    assert [e["outcome"] for e in entries] == [f"refused: {answer['error']}"]
    assert entries[0]["user"] == "root"


def test_the_console_acts_for_its_user_audited_as_via_console(tmp_path: Path) -> None:
    gateway = FakeGateway()
    with serve_socket(tmp_path, gateway, console_group="root") as served:
        answer = request(served.path, {**RELEASE, "on_behalf": ALICE})
        entries = served.audit.tail(10)
    assert answer["ok"] is True
    operation, caller = gateway.operated[0]
    assert (caller.user, caller.role, caller.uid) == ("alice via console", Role.OFFICER, 0)
    assert operation.reason == "seal checked"
    assert [(e["user"], e["role"], e["reason"]) for e in entries] == [
        ("alice via console", "officer", "seal checked")
    ]


def test_a_console_viewer_is_a_viewer_even_from_a_root_console(tmp_path: Path) -> None:
    gateway = FakeGateway()
    viewer = {"user": "victor", "role": "viewer"}
    with serve_socket(tmp_path, gateway, console_group="root") as served:
        answer = request(served.path, {**RELEASE, "on_behalf": viewer})
        status = request(served.path, {"op": "status", "on_behalf": viewer})
    assert answer == {
        "ok": False,
        "kind": "refused",
        "error": "viewers cannot operate the lane",
        "data": {},
    }
    assert status["ok"] is True
    assert gateway.operated == []


def test_an_action_through_the_console_needs_a_reason(tmp_path: Path) -> None:
    gateway = FakeGateway()
    mode: dict[str, object] = {"op": "mode", "lane": "L01", "mode": "closed", "on_behalf": ALICE}
    with serve_socket(tmp_path, gateway, console_group="root") as served:
        answer = request(served.path, mode)
        direct = request(served.path, {"op": "mode", "lane": "L01", "mode": "closed"})
    assert answer["error"] == (
        "mode.reason: an action through the console needs a reason (3+ characters)"
    )
    assert direct["ok"] is True  # gatectl itself, as before: the reason stays optional there
    assert len(gateway.operated) == 1


def test_on_behalf_names_a_known_role_and_a_plain_name(tmp_path: Path) -> None:
    with serve_socket(tmp_path, FakeGateway(), console_group="root") as served:
        as_root = {"user": "a", "role": "root"}
        root_role = request(served.path, {"op": "status", "on_behalf": as_root})
        spaced = {"user": "a b", "role": "viewer"}
        bad_name = request(served.path, {"op": "status", "on_behalf": spaced})
    assert str(root_role["error"]).startswith("status.on_behalf.role:")
    assert str(bad_name["error"]).startswith("status.on_behalf.user:")
    assert capped(Role.OFFICER) == Role.OFFICER
    assert capped(Role.VIEWER) == Role.VIEWER
    assert json.dumps(root_role).count("\n") == 0


def test_following_events_on_behalf_needs_the_console_group_too(tmp_path: Path) -> None:
    import socket

    follow = {"op": "events", "follow": True, "last": 5, "on_behalf": ALICE}
    with (
        serve_socket(tmp_path, FakeGateway(), console_group="gatebridge-console") as served,
        socket.socket(socket.AF_UNIX) as sock,
    ):
        sock.settimeout(5)
        sock.connect(str(served.path))
        sock.sendall(json.dumps(follow).encode() + b"\n")
        answer = json.loads(sock.makefile("rb").readline())
    assert answer["ok"] is False
    assert str(answer["error"]).startswith("on_behalf: refused: root is not in the console group")
