"""Signed officer commands (DESIGN section 6) as lane operations.

A verified command is permission, never an order (S6): it becomes the same
`OperatorCommanded` event an officer at the maintenance socket would send, so the lane's
core checks the role and its interlocks decide (S11). Each command must name what it acts
on as its `target`, so a command meant for one truck can never act on the next:
`release` and `reject` the transaction on the deck; `confirm` and `refuse` the clearance
`request_id` of the vehicle at the approach (the one the clearance request carried),
checked by the gateway against the approach as the command reaches the lane.
"""

from __future__ import annotations

from collections.abc import Mapping

from controller.bridge.payloads import CommandPayload
from controller.core.types import OperatorAction, Role
from controller.maintenance.server import Caller, Operation
from controller.runtime.gateway import Gateway

MODES = {
    "auto": OperatorAction.MODE_AUTO,
    "maintenance": OperatorAction.MODE_MAINTENANCE,
    "closed": OperatorAction.MODE_CLOSED,
    "emergency": OperatorAction.MODE_EMERGENCY,
}
ACTIONS = {
    "release": OperatorAction.RELEASE,
    "reject": OperatorAction.REJECT,
    "reset": OperatorAction.RESET,
    "confirm": OperatorAction.CONFIRM,
    "refuse": OperatorAction.REFUSE,
}
ON_THE_APPROACH = ("confirm", "refuse")


def officer_command(gateway: Gateway, command: CommandPayload) -> Mapping[str, object]:
    lane = gateway.lanes.get(command.lane)
    if lane is None:
        return {"accepted": False, "refused": f"lane: no lane {command.lane!r}"}
    action = _action(command)
    if not isinstance(action, OperatorAction):  # a StrEnum is a str too: test the enum
        return {"accepted": False, "refused": action}
    if command.command in ("release", "reject"):
        on_deck = lane.snapshot().get("deck_transaction")
        if command.target != on_deck:
            return {"accepted": False, "refused": f"target: {command.target!r} is not on the deck"}
    args: dict[str, str] = {}
    if command.command in ON_THE_APPROACH:
        if not command.target:
            refused = "target: confirm/refuse name the approach vehicle's clearance request_id"
            return {"accepted": False, "refused": refused}
        args["request_id"] = command.target  # checked against the approach by the gateway
    reason = command.args.get("reason", f"central command {command.command}")
    caller = Caller(pid=0, uid=-1, user=f"central:{command.key_id}", role=Role.OFFICER)
    return gateway.operate(Operation(command.lane, action, reason=reason, args=args), caller)


def _action(command: CommandPayload) -> OperatorAction | str:
    if command.command != "mode":
        return ACTIONS[command.command]
    mode = command.args.get("mode", "")
    return MODES.get(mode, f"args.mode: {mode!r} is not one of {', '.join(MODES)}")
