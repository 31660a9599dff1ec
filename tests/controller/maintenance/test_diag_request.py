"""The socket's `diag` request: validated field by field (extra fields forbidden), only
technicians and officers may send it, and every one that reaches a lane is audited."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from controller.core.types import Role
from controller.maintenance.audit import AuditLog
from controller.maintenance.diag_answer import answer_diag
from controller.maintenance.protocol import DiagRequest, parse_request
from controller.maintenance.server import Caller, MaintenanceServer, Operation

READ = {"op": "diag", "lane": "L01", "device": "io", "table": "coils", "address": 0, "count": 4}


class Diagnosing:
    """A gateway that answers every diag with the values it was asked for."""

    def __init__(self) -> None:
        self.asked: list[DiagRequest] = []

    def status(self) -> dict[str, object]:
        return {}

    def recent_events(self, last: int) -> list[dict[str, object]]:
        return []

    async def follow_events(self) -> AsyncIterator[dict[str, object]]:
        yield {}

    async def snapshot_jpeg(self, sha256: str) -> bytes | None:
        return None

    def operate(self, op: Operation, caller: Caller) -> dict[str, object]:
        return {"accepted": False}

    async def diag(self, request: DiagRequest, caller: Caller) -> dict[str, object]:
        self.asked.append(request)
        return {"accepted": True, "action": "diag_read", "values": [1, 0, 1, 0]}


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"address": 70000}, "diag.address: Input should be less than or equal to 65535"),
        ({"count": 0}, "diag.count: Input should be greater than or equal to 1"),
        ({"table": "holding", "count": 126}, "diag: count: 126 is not in 1..125 for holding"),
        ({"address": 65534, "count": 4}, "diag: address: 65534..65537 is outside 0..65535"),
        (
            {"device": "scale"},
            "diag.device: Input should be 'io', 'entry_barrier' or 'exit_barrier'",
        ),
        ({"values": [70000]}, "diag.values.0: Input should be less than or equal to 65535"),
        ({"values": []}, "diag.values: List should have at least 1 item after validation, not 0"),
        ({"unit": 3}, "diag.unit: Extra inputs are not permitted"),
    ],
)
def test_a_bad_diag_request_names_its_field(change: dict[str, object], error: str) -> None:
    assert parse_request(json.dumps(READ | change).encode()) == error


def server(tmp: Path, control: Diagnosing) -> MaintenanceServer:
    return MaintenanceServer(tmp / "s", control, AuditLog(tmp / "audit.log"), {})


async def test_viewers_are_refused_technicians_answered_and_both_audited(tmp_path: Path) -> None:
    control = Diagnosing()
    maintenance = server(tmp_path, control)
    request = DiagRequest.model_validate(READ)
    viewer = Caller(pid=7, uid=1001, user="view.al", role=Role.VIEWER)
    technician = Caller(pid=8, uid=1002, user="tech.jo", role=Role.TECHNICIAN)
    refused = await answer_diag(maintenance, request, viewer)
    answered = await answer_diag(maintenance, request, technician)
    audit = [json.loads(line) for line in (tmp_path / "audit.log").read_text().splitlines()]
    assert (refused.ok, refused.kind) == (False, "refused")
    assert refused.error == "diag through the controller needs a technician or an officer"
    assert control.asked == [request]  # only the technician's reached the gateway
    assert (answered.ok, answered.data["values"]) == (True, [1, 0, 1, 0])
    assert [(e["user"], e["action"], e["diag"], e["outcome"]) for e in audit] == [
        ("view.al", "diag_read", "io coils 0+4", "refused: diag through the controller needs "
         "a technician or an officer"),
        ("tech.jo", "diag_read", "io coils 0+4", "accepted"),
    ]  # fmt: skip
