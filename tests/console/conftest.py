"""The console against a real maintenance socket over a scripted gateway, through
Starlette's TestClient (https, so the Secure cookies travel)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from starlette.testclient import TestClient

from controller.console.site import create_app
from controller.console.users import Users, add_user
from tests.console.fake_gateway import FakeGateway, Served, serve_socket

FAST = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
PASSWORD = "correct horse battery"  # noqa: S105 - the test accounts' password
PEOPLE = {"alice": "officer", "tina": "technician", "victor": "viewer"}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Rig:
    served: Served
    clock: Clock
    app: Any

    def client(self) -> TestClient:
        return TestClient(self.app, base_url="https://testserver", follow_redirects=False)

    @property
    def gateway(self) -> FakeGateway:
        return self.served.gateway


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    users = tmp_path / "users.json"
    for name, role in PEOPLE.items():
        add_user(users, name, role, PASSWORD, FAST)
    clock = Clock()
    with serve_socket(tmp_path, FakeGateway(), console_group="root") as served:
        app = create_app(served.path, Users(users, FAST), 30, clock, status_period_s=0.05)
        yield Rig(served, clock, app)


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def sign_in(client: TestClient, name: str, password: str = PASSWORD) -> Any:
    page = client.get("/login")
    return client.post(
        "/login", data={"csrf": csrf_of(page.text), "name": name, "password": password}
    )
