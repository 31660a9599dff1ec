"""Signing in: argon2 accounts, cookie flags, CSRF on every POST, the lockout, expiry."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from controller.console.users import UsersFileError, add_user, read_accounts
from tests.console.conftest import FAST, PASSWORD, Rig, csrf_of, sign_in


def test_a_page_without_a_session_goes_to_sign_in(rig: Rig) -> None:
    with rig.client() as client:
        for path in ("/", "/queue", "/audit", "/lanes/L01", "/stream"):
            assert client.get(path).headers["location"] == "/login"


def test_signing_in_sets_a_secure_httponly_strict_session_cookie(rig: Rig) -> None:
    with rig.client() as client:
        answer = sign_in(client, "alice")
        assert answer.status_code == 303
        cookie = next(
            h for h in answer.headers.get_list("set-cookie") if h.startswith("gatebridge_session=")
        )
        flags = {part.strip().lower() for part in cookie.split(";")}
        assert {"httponly", "secure", "samesite=strict"} <= flags
        page = client.get("/")
    assert page.status_code == 200
    assert "alice (officer)" in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]


def test_a_wrong_password_is_refused_and_five_lock_the_name(rig: Rig) -> None:
    with rig.client() as client:
        for _ in range(4):
            assert sign_in(client, "alice", "wrong password").status_code == 401
        assert sign_in(client, "alice").status_code == 303  # a success clears the count
        client.cookies.clear()
        for _ in range(5):
            assert sign_in(client, "alice", "wrong password").status_code == 401
        locked = sign_in(client, "alice")  # the right password, but locked
        assert locked.status_code == 429
        assert "locked for 5 more minute(s)" in locked.text
        assert sign_in(client, "tina").status_code == 303  # per name: others sign in
        client.cookies.clear()
        rig.clock.now += 301
        assert sign_in(client, "alice").status_code == 303


def test_the_sign_in_form_needs_its_csrf_token(rig: Rig) -> None:
    with rig.client() as client:
        client.get("/login")
        forged = client.post("/login", data={"csrf": "x", "name": "alice", "password": PASSWORD})
    assert forged.status_code == 403
    assert "gatebridge_session" not in forged.headers.get("set-cookie", "")


def test_a_session_expires_after_session_minutes_idle(rig: Rig) -> None:
    with rig.client() as client:
        sign_in(client, "alice")
        rig.clock.now += 29 * 60
        assert client.get("/").status_code == 200  # and this request renews it
        rig.clock.now += 29 * 60
        assert client.get("/").status_code == 200
        rig.clock.now += 30 * 60
        assert client.get("/").headers["location"] == "/login"


def test_signing_out_ends_the_session_on_the_server(rig: Rig) -> None:
    with rig.client() as client:
        sign_in(client, "alice")
        sid = client.cookies["gatebridge_session"]
        client.post("/logout", data={"csrf": csrf_of(client.get("/").text)})
        client.cookies.set("gatebridge_session", sid, domain="testserver")  # replayed
        assert client.get("/").headers["location"] == "/login"


def test_adduser_writes_an_argon2_hash_0600_and_validates(tmp_path: Path) -> None:
    path = tmp_path / "etc" / "users.json"
    add_user(path, "olga", "officer", "long enough pw", FAST)
    add_user(path, "olga", "viewer", "another long pw", FAST)  # replaced, not doubled
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    accounts = read_accounts(path)
    assert accounts["olga"].role == "viewer"
    assert accounts["olga"].hash.startswith("$argon2id$")
    assert "another long pw" not in path.read_text()
    assert list(json.loads(path.read_text())["users"]) == ["olga"]
    with pytest.raises(UsersFileError, match="role: 'admin'"):
        add_user(path, "olga", "admin", "long enough pw", FAST)
    with pytest.raises(UsersFileError, match="password: at least 8"):
        add_user(path, "olga", "viewer", "short", FAST)
    with pytest.raises(UsersFileError, match="name:"):
        add_user(path, "olga smith", "viewer", "long enough pw", FAST)
    assert [p.name for p in path.parent.iterdir()] == ["users.json"]  # no temporary left


def test_adduser_keeps_the_owner_of_the_file_the_install_made(tmp_path: Path) -> None:
    # install.sh makes it the console's (0600); root adds the accounts: a file that turned
    # root's would lock the console out of it
    assert os.geteuid() == 0, "changing a file's owner needs root"
    path = tmp_path / "console-users.json"
    path.write_text('{"users": {}}\n')
    os.chown(path, 4321, 4322)
    add_user(path, "olga", "officer", "long enough pw", FAST)
    assert (path.stat().st_uid, path.stat().st_gid) == (4321, 4322)
    assert list(read_accounts(path)) == ["olga"]


def test_a_broken_users_file_makes_sign_in_unavailable_with_the_reason(rig: Rig) -> None:
    console = rig.app.app.state.console
    console.users.path.write_text("{not json")
    with rig.client() as client:
        answer = sign_in(client, "alice")
    assert answer.status_code == 503
    assert "Sign-in is unavailable" in answer.text
    assert "cannot read the users file" in answer.text
