"""An officer's confirm/refuse of the vehicle held at the approach (issue 15), from the
maintenance socket's side: the request is validated naming the field, maps to the core's
CONFIRM/REFUSE with the clearance request it names, is audited with it, and the gateway
refuses it when another vehicle (or none) stands at the approach by then."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import cast

import pytest

from controller.core.commands import Command, PublishEvent
from controller.core.events import Event, OperatorCommanded
from controller.core.types import OperatorAction, Role
from controller.maintenance.audit import AuditLog
from controller.maintenance.protocol import ApproachRequest, parse_request
from controller.maintenance.server import Caller, MaintenanceServer, Operation, to_operation
from controller.runtime.gateway import Gateway
from controller.runtime.lane import LaneRuntime

OFFICER = Caller(pid=1, uid=0, user="root", role=Role.OFFICER)
CONFIRM = {"op": "approach", "lane": "L01", "action": "confirm", "reason": "plate checked"}


def parsed(**over: object) -> ApproachRequest | str:
    request = parse_request(json.dumps({**CONFIRM, **over}).encode())
    assert isinstance(request, ApproachRequest | str)
    return request


@pytest.mark.parametrize(
    ("action", "expected"), [("confirm", OperatorAction.CONFIRM), ("refuse", OperatorAction.REFUSE)]
)
def test_confirm_and_refuse_map_to_the_cores_actions(action: str, expected: OperatorAction) -> None:
    request = parsed(action=action)
    assert isinstance(request, ApproachRequest)
    operation = to_operation(request)
    assert (operation.lane, operation.action, operation.reason) == (
        "L01",
        expected,
        "plate checked",
    )
    assert operation.args == {}  # no vehicle named: nothing to compare


def test_the_request_id_named_rides_in_the_operations_args() -> None:
    request = parsed(request_id="req-0007")
    assert isinstance(request, ApproachRequest)
    assert to_operation(request).args == {"request_id": "req-0007"}


@pytest.mark.parametrize(
    ("over", "starts"),
    [
        ({"action": "admit"}, "approach.action: Input should be 'confirm' or 'refuse'"),
        ({"reason": "ok"}, "approach.reason: String should have at least 3 characters"),
        ({"lane": "L 01"}, "approach.lane"),
        ({"request_id": ""}, "approach.request_id"),
        ({"request_id": "req 7; rm"}, "approach.request_id"),
        ({"tag": "E200"}, "approach.tag: Extra inputs are not permitted"),
    ],
)
def test_a_bad_request_is_one_line_naming_the_field(over: dict[str, object], starts: str) -> None:
    error = parsed(**over)
    assert isinstance(error, str)
    assert error.startswith(starts), error
    assert "\n" not in error


def test_a_missing_reason_or_action_is_named() -> None:
    without_reason = {k: v for k, v in CONFIRM.items() if k != "reason"}
    assert parse_request(json.dumps(without_reason).encode()) == "approach.reason: Field required"
    without_action = {k: v for k, v in CONFIRM.items() if k != "action"}
    assert parse_request(json.dumps(without_action).encode()) == "approach.action: Field required"


@dataclass
class ApproachLane:
    """A lane whose approach holds the vehicle of clearance request `request_id` (None:
    no vehicle), and which records what reaches its core."""

    request_id: str | None = "req-0007"
    fed: list[OperatorCommanded] = field(default_factory=list)
    setup: SimpleNamespace = field(default_factory=lambda: SimpleNamespace(lane_id="L01"))
    journaled: list[object] = field(default_factory=list)

    @property
    def core(self) -> SimpleNamespace:
        approach = None if self.request_id is None else SimpleNamespace(request_id=self.request_id)
        return SimpleNamespace(approach=approach)

    def now(self) -> float:
        return 0.0

    def snapshot(self) -> dict[str, object]:
        return {"lane": "L01", "state": "idle"}

    def feed(self, event: Event) -> list[Command]:
        assert isinstance(event, OperatorCommanded)
        self.fed.append(event)
        return [PublishEvent("operator_command", {"action": event.action.value})]


def gateway_of(lane: ApproachLane) -> Gateway:
    return Gateway([cast(LaneRuntime, lane)])


def test_the_vehicle_the_officer_checked_is_confirmed_with_its_request_id() -> None:
    lane = ApproachLane()
    op = Operation("L01", OperatorAction.CONFIRM, reason="checked", args={"request_id": "req-0007"})
    assert gateway_of(lane).operate(op, OFFICER)["accepted"] is True
    assert [(e.action, dict(e.args)) for e in lane.fed] == [
        (OperatorAction.CONFIRM, {"request_id": "req-0007"})
    ]


@pytest.mark.parametrize("standing", ["req-0008", None])
@pytest.mark.parametrize("action", [OperatorAction.CONFIRM, OperatorAction.REFUSE])
def test_another_vehicle_or_none_at_the_approach_is_refused_before_the_core(
    standing: str | None, action: OperatorAction
) -> None:
    lane = ApproachLane(request_id=standing)
    op = Operation("L01", action, reason="checked", args={"request_id": "req-0007"})
    answer = gateway_of(lane).operate(op, OFFICER)
    assert answer == {
        "accepted": False,
        "refused": "request_id: 'req-0007' is not the vehicle at the approach",
    }
    assert lane.fed == []


def test_without_a_request_id_the_core_alone_decides() -> None:
    lane = ApproachLane(request_id=None)
    op = Operation("L01", OperatorAction.REFUSE, reason="turned away")
    assert gateway_of(lane).operate(op, OFFICER)["accepted"] is True
    assert [e.action for e in lane.fed] == [OperatorAction.REFUSE]


def test_the_audit_line_names_the_action_reason_and_vehicle(tmp_path: Path) -> None:
    lane = ApproachLane(request_id="req-0008")
    audit = AuditLog(tmp_path / "audit.log")
    server = MaintenanceServer(tmp_path / "s.sock", gateway_of(lane), audit, {})
    request = parsed(action="refuse", request_id="req-0007")
    assert isinstance(request, ApproachRequest)
    answer = server.handle(request, OFFICER)
    assert (answer.ok, answer.kind) == (False, "refused")
    entry = audit.tail(1)[0]
    assert (entry["action"], entry["reason"], entry["request_id"]) == (
        "refuse",
        "plate checked",
        "req-0007",
    )
    assert entry["outcome"] == "refused: request_id: 'req-0007' is not the vehicle at the approach"


def test_a_viewer_cannot_confirm_and_is_audited(tmp_path: Path) -> None:
    lane = ApproachLane()
    audit = AuditLog(tmp_path / "audit.log")
    server = MaintenanceServer(tmp_path / "s.sock", gateway_of(lane), audit, {})
    request = parsed()
    assert isinstance(request, ApproachRequest)
    viewer = Caller(pid=2, uid=1000, user="vic", role=Role.VIEWER)
    answer = server.handle(request, viewer)
    assert (answer.ok, answer.error) == (False, "viewers cannot operate the lane")
    assert lane.fed == []
    assert audit.tail(1)[0]["outcome"] == "refused: viewers cannot operate"
