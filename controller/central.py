"""The reference central clearance service (`gatectl central`, and in-process).

Theory of operation: a manifest maps tags to a decision, the declared gross and the
vehicle's plate; unknown tags are denied (DESIGN section 6). A request by plate alone (a
dead tag, issue 15) is answered from the entry with that plate; an unknown plate is
denied likewise. Every decision is signed with the service's Ed25519 key and carries a
`seq` strictly increasing per (lane, kind). The counter is persisted (written to a
temporary file, fsync'd and renamed) *before* the message leaves, so a restarted service
never reuses a seq that a gateway has already accepted. Times come from an injected wall
clock, so the demo and simulations sign in virtual time.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import random
import threading
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import aiomqtt
from pydantic import ValidationError

from controller.bridge.payloads import ClearanceRequestPayload, utc_text
from controller.bridge.reception import AuditSink, EventSink, Reception
from controller.bridge.signing import Signer
from controller.bridge.verify import MemorySeqStore, SeqStore, Verifier
from controller.clearance import Lookup, ManifestEntry, manifest_lookup
from controller.core.types import Decision
from controller.errors import ConfigError, keeping_cancellation
from controller.runtime.ports import DecisionSink

log = logging.getLogger(__name__)
IN_PROCESS_KEY_ID = "central-in-process"


class SeqCounter(Protocol):
    def next(self, lane: str, kind: str) -> int: ...


@dataclass(slots=True)
class MemorySeqCounter:
    last: dict[str, int] = field(default_factory=dict)

    def next(self, lane: str, kind: str) -> int:
        key = f"{lane}/{kind}"
        self.last[key] = self.last.get(key, 0) + 1
        return self.last[key]


@dataclass(slots=True)
class FileSeqCounter:
    """The signer's seqs in a small JSON file, replaced atomically on every use. The
    in-process central calls `next` from worker threads (the fsync stays off the event
    loop), hence the lock."""

    path: Path
    last: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, compare=False, repr=False)

    def __post_init__(self) -> None:
        if not self.path.exists():
            return
        try:
            loaded = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as error:
            raise ConfigError("state", f"{self.path}: unreadable seq state: {error}") from None
        if not isinstance(loaded, dict) or not all(isinstance(v, int) for v in loaded.values()):
            raise ConfigError("state", f"{self.path}: a mapping of lane/kind -> int expected")
        self.last = {str(k): int(v) for k, v in loaded.items()}

    def next(self, lane: str, kind: str) -> int:
        key = f"{lane}/{kind}"
        with self._lock:
            self.last[key] = self.last.get(key, 0) + 1
            self._save()
            return self.last[key]

    def at_least(self, lane: str, kind: str, seq: int) -> None:
        """Never sign at or below `seq` (what a gateway already accepted): a state file
        that was lost, or never kept, must not cost a run of replay rejections."""
        key = f"{lane}/{kind}"
        with self._lock:
            if seq > self.last.get(key, 0):
                self.last[key] = seq
                self._save()

    def _save(self) -> None:
        temporary = self.path.with_name(self.path.name + ".tmp")
        with temporary.open("w", encoding="utf-8") as out:
            json.dump(self.last, out)
            out.flush()
            os.fsync(out.fileno())
        temporary.replace(self.path)
        directory = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)


@dataclass(slots=True)
class Central:
    lookup: Lookup
    signer: Signer
    wall_clock: Callable[[], float]
    counter: SeqCounter = field(default_factory=MemorySeqCounter)
    validity_s: float = 60.0
    decided: int = 0

    @classmethod
    def from_manifest(cls, manifest: Mapping[str, ManifestEntry], **kw: object) -> Central:
        return cls(manifest_lookup(manifest), **kw)  # type: ignore[arg-type]

    def decide(
        self, lane: str, request_id: str, tag: str | None, plate: str | None = None
    ) -> dict[str, object]:
        """The signed decision for a clearance request by tag (naming the entry's plate
        when it has one: the lane checks it against its camera) or by plate alone (that
        plate echoed). Unknown tags and unknown plates are denied."""
        entry = self.lookup(tag, plate)
        body: dict[str, object] = {"schema": "gatebridge.decision/1", "lane": lane}
        named = plate if tag is None else (entry.plate if entry is not None else None)
        body |= {k: v for k, v in (("tag", tag), ("plate", named)) if v is not None}
        body["request_id"] = request_id
        body["decision"] = (Decision.DENY if entry is None else entry.decision).value
        if entry is not None and entry.declared_gross_kg is not None:
            body["declared_gross_kg"] = entry.declared_gross_kg
        if entry is not None and entry.tolerance_kg is not None:
            body["tolerance_kg"] = entry.tolerance_kg
        self.decided += 1
        return self._signed(body, lane, "decision")

    def command(
        self, lane: str, command: str, target: str = "", args: Mapping[str, str] | None = None
    ) -> dict[str, object]:
        """A signed officer command (release, reject, reset, mode)."""
        body: dict[str, object] = {
            "schema": "gatebridge.command/1",
            "lane": lane,
            "command": command,
            "target": target,
            "args": dict(args or {}),
        }
        return self._signed(body, lane, "command")

    def _signed(self, body: dict[str, object], lane: str, kind: str) -> dict[str, object]:
        now = self.wall_clock()
        body["seq"] = self.counter.next(lane, kind)
        body["issued_at"] = utc_text(now)
        body["expires_at"] = utc_text(now + self.validity_s)
        return self.signer.sign(body)


@dataclass(slots=True)
class InProcessClearance:
    """The central service inside the gateway process (demo, simulate, standalone run).

    Decisions take the same path as over MQTT: signed by `central`, then verified from
    their bytes by `reception`. Latency is drawn around the median from a seeded RNG and
    waited on the event loop, so simulations stay in virtual time. With `sign_off_loop`
    (a persisted seq counter: its fsync) decisions are signed in a worker thread.
    """

    central: Central
    reception: Reception
    median_s: float = 3.0
    seed: int = 0
    sign_off_loop: bool = False
    requests: int = 0
    _rng: random.Random = field(init=False)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)  # noqa: S311 - simulated service latency

    def request(
        self,
        lane: str,
        request_id: str,
        tag: str | None,
        deliver: DecisionSink,
        plate: str | None = None,
    ) -> None:
        self.requests += 1
        self.reception.expect(lane, request_id, deliver)
        latency = self.median_s * self._rng.lognormvariate(0, 0.35) if self.median_s else 0.0

        async def answer() -> None:
            await asyncio.sleep(latency)
            if self.sign_off_loop:
                signed = await asyncio.to_thread(self.central.decide, lane, request_id, tag, plate)
            else:
                signed = self.central.decide(lane, request_id, tag, plate)
            await self.reception.receive("decision", lane, json.dumps(signed).encode())

        task = asyncio.get_running_loop().create_task(answer(), name=f"clearance:{request_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def cancel_all(self) -> None:
        for task in self._tasks:
            task.cancel()


def in_process_clearance(
    lookup: Lookup,
    *,
    lanes: Collection[str],
    journal: EventSink,
    wall_clock: Callable[[], float],
    median_s: float = 3.0,
    seed: int = 0,
    seqs: SeqStore | None = None,
    audit: AuditSink | None = None,
    max_skew_s: float = 30.0,
    counter: FileSeqCounter | None = None,
) -> InProcessClearance:
    """A central service with a signing key made in memory, and the gateway's verifier.
    Its seqs live in `counter` when given (a standalone `gatectl run`: they must outlive
    a restart, as the gateway's last accepted seqs do), else in memory."""
    signer = Signer.generate(IN_PROCESS_KEY_ID)
    verifier = Verifier(
        {signer.key_id: signer.public_key()},
        max_skew_s,
        wall_clock,
        seqs if seqs is not None else MemorySeqStore(),
    )
    reception = Reception(verifier, journal, lanes, audit)
    central = Central(
        lookup, signer, wall_clock, counter if counter is not None else MemorySeqCounter()
    )
    return InProcessClearance(central, reception, median_s, seed, sign_off_loop=counter is not None)


async def serve_central(
    central: Central,
    client: aiomqtt.Client,
    on_ready: Callable[[], None] = lambda: None,
    retry_s: float = 1.0,
) -> None:
    """Answer every clearance request on the broker with a signed decision; reconnect
    after a lost connection (the client is reused, as aiomqtt intends)."""
    while True:
        try:
            async with client:
                await client.subscribe("gate/+/+/+/clearance/request", qos=1)
                on_ready()
                async for message in client.messages:
                    answer = _answer(central, str(message.topic), message.payload)
                    if answer is not None:
                        await keeping_cancellation(client.publish(answer[0], answer[1], qos=1))
        except aiomqtt.MqttError as error:
            log.warning("central: %s; reconnecting", error)
        await asyncio.sleep(retry_s)


def _answer(central: Central, topic: str, raw: object) -> tuple[str, bytes] | None:
    parts = topic.split("/")
    try:
        request = ClearanceRequestPayload.model_validate_json(
            raw if isinstance(raw, bytes) else b""
        )
    except ValidationError as error:
        log.warning("central: bad clearance request on %s: %s", topic, error.errors()[0]["msg"])
        return None
    if len(parts) != 6 or parts[3] != request.lane:
        log.warning("central: request for lane %s on topic %s ignored", request.lane, topic)
        return None
    decision = central.decide(request.lane, request.request_id, request.tag, request.plate)
    return "/".join([*parts[:4], "clearance", "decision"]), json.dumps(decision).encode()
