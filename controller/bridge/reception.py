"""What happens to a signed message once it arrives, however it arrived (S6).

Theory of operation: `receive()` verifies the raw bytes (verify.py) under a lock, so two
messages for one lane never race between the request check and the seq store. A
rejection is audited, journaled as a `rejected_message` event on the lane (or on the
`_gateway` pseudo-lane when the topic names no lane of ours) and nothing moves. An
accepted decision goes to the lane that asked, once: the outstanding request is consumed.
An accepted command becomes an officer operation, which the lane's core still vets, so a
signed command is permission, never an order. Clock health is tracked per lane: an
authentic message whose `issued_at` is off by more than the allowance raises the
`clock_skew` alarm; the next one within it clears the alarm. Replays are tracked the
same way: REPLAY_ALARM_AFTER rejections as replayed in a row for one lane and kind (a
signer whose seq state was lost, or someone replaying captured messages) raise
`clearance_replay_rejected` (decisions) or `command_replay_rejected`; the next message
of that kind accepted for the lane clears it. Other rejections neither count nor reset.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from controller.bridge.payloads import CommandPayload, DecisionPayload
from controller.bridge.verify import Accepted, Kind, Reason, Rejection, Verifier
from controller.runtime.ports import DecisionSink, VerifiedDecision

GATEWAY_LANE = "_gateway"
Operate = Callable[[CommandPayload], Mapping[str, object]]
Alarm = Callable[[str, str, str | None], None]
REPLAY_ALARM_AFTER = 3
REPLAY_ALARMS: dict[Kind, str] = {
    "decision": "clearance_replay_rejected",
    "command": "command_replay_rejected",
}


class EventSink(Protocol):
    async def append_event(self, lane: str, type_: str, data: Mapping[str, object]) -> object: ...


class AuditSink(Protocol):
    def append(self, entry: Mapping[str, object]) -> str: ...


@dataclass(slots=True)
class Reception:
    verifier: Verifier
    journal: EventSink
    lanes: Collection[str]
    audit: AuditSink | None = None
    on_alarm: Alarm | None = None
    operate: Operate | None = None
    accepted: int = 0
    rejected: dict[str, int] = field(default_factory=dict)
    _outstanding: dict[str, tuple[str, DecisionSink]] = field(default_factory=dict)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _skewed: set[str] = field(default_factory=set)
    _replays: dict[tuple[str, Kind], int] = field(default_factory=dict)

    def expect(self, lane: str, request_id: str, deliver: DecisionSink) -> None:
        """`request_id` is now the lane's outstanding request; an older one is void."""
        self._outstanding[lane] = (request_id, deliver)

    def outstanding(self, lane: str) -> str | None:
        pending = self._outstanding.get(lane)
        return None if pending is None else pending[0]

    async def receive(self, kind: Kind, lane: str, raw: bytes) -> Accepted | Rejection:
        async with self._lock:
            if lane not in self.lanes:
                result: Accepted | Rejection = Rejection(
                    Reason.WRONG_LANE, f"lane: {lane!r} is not a lane of this gateway", kind, lane
                )
            else:
                result = await self.verifier.verify(kind, raw, lane, self.outstanding(lane))
            self._clock_health(lane, result.skew_s)
            self._replay_health(kind, lane, result)
            if isinstance(result, Rejection):
                await self._reject(result)
            else:
                await self._accept(kind, lane, result)
            return result

    async def _reject(self, rejection: Rejection) -> None:
        reason = rejection.reason.value
        self.rejected[reason] = self.rejected.get(reason, 0) + 1
        lane = rejection.lane if rejection.lane in self.lanes else GATEWAY_LANE
        data = {**rejection.as_event(), "topic_lane": rejection.lane}
        await self._audit({"action": f"{rejection.kind}_rejected", "lane": lane, **data})
        await self.journal.append_event(lane, "rejected_message", data)

    async def _accept(self, kind: Kind, lane: str, accepted: Accepted) -> None:
        self.accepted += 1
        payload = accepted.payload
        entry: dict[str, object] = {"action": f"{kind}_accepted", "lane": lane}
        entry |= {"key_id": payload.key_id, "seq": payload.seq}
        if isinstance(payload, DecisionPayload):
            _, deliver = self._outstanding.pop(lane)
            entry |= {"request_id": payload.request_id, "decision": payload.decision.value}
            await self._audit(entry)
            deliver(
                VerifiedDecision(
                    payload.request_id,
                    payload.decision,
                    payload.declared_gross_kg,
                    payload.tolerance_kg,
                    payload.plate,
                )
            )
        elif isinstance(payload, CommandPayload):
            entry |= {"command": payload.command, "target": payload.target}
            outcome = self.operate(payload) if self.operate else {"accepted": False}
            await self._audit({**entry, "outcome": dict(outcome)})

    async def _audit(self, entry: Mapping[str, object]) -> None:
        if self.audit is not None:
            # the audit log fsyncs; off the loop so a flood of rejections cannot stall it
            await asyncio.to_thread(self.audit.append, entry)

    def _replay_health(self, kind: Kind, lane: str, result: Accepted | Rejection) -> None:
        if self.on_alarm is None or lane not in self.lanes:
            return
        key, code = (lane, kind), REPLAY_ALARMS[kind]
        if isinstance(result, Accepted):
            if self._replays.pop(key, 0) >= REPLAY_ALARM_AFTER:
                self.on_alarm(lane, code, None)
        elif result.reason == Reason.REPLAYED:
            count = self._replays[key] = self._replays.get(key, 0) + 1
            if count >= REPLAY_ALARM_AFTER:
                self.on_alarm(
                    lane,
                    code,
                    f"{count} {kind}s in a row rejected as replayed (seq {result.seq} not "
                    "above the last accepted): has the signer lost its seq state?",
                )

    def _clock_health(self, lane: str, skew_s: float | None) -> None:
        if self.on_alarm is None or lane not in self.lanes or skew_s is None:
            return
        if abs(skew_s) > self.verifier.max_skew_s:
            self._skewed.add(lane)
            self.on_alarm(lane, "clock_skew", f"central clock differs by {skew_s:+.1f} s")
        elif lane in self._skewed:
            self._skewed.discard(lane)
            self.on_alarm(lane, "clock_skew", None)
