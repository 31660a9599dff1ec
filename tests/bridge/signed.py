"""Helpers for tests of signed messages: a signer, a verifier and message builders."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from controller.bridge.payloads import utc_text
from controller.bridge.signing import Signer
from controller.bridge.verify import MemorySeqStore, Verifier

NOW = 1_800_000_000.0


@dataclass
class Clock:
    now: float = NOW

    def __call__(self) -> float:
        return self.now


@dataclass
class Keys:
    signer: Signer = field(default_factory=lambda: Signer.generate("central-2026"))
    clock: Clock = field(default_factory=Clock)
    seq: int = 0

    def verifier(self, *, skew: float = 30.0) -> Verifier:
        return Verifier(
            {"central-2026": self.signer.public_key()}, skew, self.clock, MemorySeqStore()
        )

    def decision(
        self, request_id: str = "req-1", lane: str = "L01", **over: object
    ) -> dict[str, object]:
        self.seq += 1
        body: dict[str, object] = {
            "schema": "gatebridge.decision/1",
            "lane": lane,
            "tag": "E28011700000020F5A2B3C4D",
            "request_id": request_id,
            "decision": "grant",
            "declared_gross_kg": 32_000,
            "seq": self.seq,
            "issued_at": utc_text(self.clock.now),
            "expires_at": utc_text(self.clock.now + 60),
        }
        body.update(over)
        return self.signer.sign(body)

    def command(
        self, command: str = "reset", lane: str = "L01", **over: object
    ) -> dict[str, object]:
        self.seq += 1
        body: dict[str, object] = {
            "schema": "gatebridge.command/1",
            "lane": lane,
            "command": command,
            "target": "",
            "args": {"reason": "test"},
            "seq": self.seq,
            "issued_at": utc_text(self.clock.now),
            "expires_at": utc_text(self.clock.now + 60),
        }
        body.update(over)
        return self.signer.sign(body)


def raw(message: dict[str, object]) -> bytes:
    return json.dumps(message).encode()
