"""Signed remote `confirm` and `refuse` (issue 15): the command schema takes them, a
verified one becomes the officer's CONFIRM/REFUSE of the vehicle at the approach, and its
`target` must be that vehicle's clearance request_id, so a command meant for one truck
never acts on the one that took its place."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import cast

import pytest
from pydantic import ValidationError

from controller.bridge.officer import officer_command
from controller.bridge.payloads import CommandPayload
from controller.bridge.verify import Accepted, Reason, Rejection
from controller.core.commands import Command, PublishEvent
from controller.core.events import Event, OperatorCommanded
from controller.core.types import OperatorAction, Role
from controller.runtime.gateway import Gateway
from controller.runtime.lane import LaneRuntime
from tests.bridge.signed import Keys, raw


@dataclass
class ApproachLane:
    request_id: str | None = "req-0007"  # the clearance request of the approach vehicle
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
        return {"lane": "L01", "state": "idle", "deck_transaction": None}

    def feed(self, event: Event) -> list[Command]:
        assert isinstance(event, OperatorCommanded)
        self.fed.append(event)
        return [PublishEvent("operator_command", {"action": event.action.value})]


def payload(keys: Keys, command: str, target: str = "", reason: str = "test") -> CommandPayload:
    message = keys.command(command, target=target, args={"reason": reason})
    return CommandPayload.model_validate(message)


@pytest.mark.parametrize("command", ["confirm", "refuse"])
async def test_the_verifier_accepts_a_signed_confirm_or_refuse(command: str) -> None:
    keys = Keys()
    message = keys.command(command, target="req-0007", args={"reason": "plate seen on camera"})
    accepted = await keys.verifier().verify("command", raw(message), "L01")
    assert isinstance(accepted, Accepted)
    assert isinstance(accepted.payload, CommandPayload)
    assert (accepted.payload.command, accepted.payload.target) == (command, "req-0007")


async def test_an_unknown_command_is_malformed_naming_the_field() -> None:
    keys = Keys()
    refused = await keys.verifier().verify("command", raw(keys.command("admit")), "L01")
    assert isinstance(refused, Rejection)
    assert refused.reason == Reason.MALFORMED
    assert "command" in refused.detail
    with pytest.raises(ValidationError, match="command"):
        payload(Keys(), "admit")


@pytest.mark.parametrize(
    ("command", "action"), [("confirm", OperatorAction.CONFIRM), ("refuse", OperatorAction.REFUSE)]
)
def test_a_command_naming_the_approach_vehicle_reaches_its_core(
    command: str, action: OperatorAction
) -> None:
    lane = ApproachLane()
    gateway = Gateway([cast(LaneRuntime, lane)])
    signed = payload(Keys(), command, "req-0007", "plate seen on camera")
    assert officer_command(gateway, signed)["accepted"] is True
    [event] = lane.fed
    assert (event.action, event.role, event.reason) == (
        action,
        Role.OFFICER,
        "plate seen on camera",
    )
    assert event.actor == "central:central-2026"
    assert dict(event.args) == {"request_id": "req-0007"}


@pytest.mark.parametrize(
    ("standing", "target", "refused"),
    [
        ("req-0007", "", "target: confirm/refuse name the approach vehicle's clearance request_id"),
        ("req-0008", "req-0007", "request_id: 'req-0007' is not the vehicle at the approach"),
        (None, "req-0007", "request_id: 'req-0007' is not the vehicle at the approach"),
    ],
)
@pytest.mark.parametrize("command", ["confirm", "refuse"])
def test_a_command_for_another_vehicle_or_none_is_refused(
    command: str, standing: str | None, target: str, refused: str
) -> None:
    lane = ApproachLane(request_id=standing)
    gateway = Gateway([cast(LaneRuntime, lane)])
    answer = officer_command(gateway, payload(Keys(), command, target=target))
    assert answer == {"accepted": False, "refused": refused}
    assert lane.fed == []
