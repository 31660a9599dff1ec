"""A truck with a dead tag asked about by its plate, over a real mosquitto (issue 15): the
bridge publishes a request naming the plate and no tag, the reference central answers
from the manifest entry with that plate, and the lane is handed the verified decision
with the plate. A request by tag alone goes out as it did before plates."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Sequence

import aiomqtt

from controller.bridge.mqtt import Bridge, BrokerSettings, OutboxRow
from controller.bridge.reception import Reception
from controller.bridge.signing import Signer
from controller.bridge.verify import MemorySeqStore, Verifier
from controller.central import Central, serve_central
from controller.clearance import ManifestEntry
from controller.core.types import Decision
from controller.runtime.ports import MemoryJournal, VerifiedDecision
from tests.broker import HOST, Mosquitto

WAIT_S = 20
TAG = "E2801170000002AA"
MANIFEST = {TAG: ManifestEntry(decision=Decision.GRANT, declared_gross_kg=31_000, plate="29C12345")}


class EmptyOutbox:
    async def pending(self, limit: int = 100) -> Sequence[OutboxRow]:
        return []

    async def mark_delivered(self, keys: Sequence[str]) -> None:
        return None


@contextlib.asynccontextmanager
async def running(*jobs: asyncio.Task[None]) -> AsyncIterator[None]:
    try:
        yield
    finally:
        for job in jobs:
            job.cancel()
        for job in jobs:
            with contextlib.suppress(asyncio.CancelledError):
                await job


async def test_a_plate_request_is_answered_by_central_and_reaches_the_lane(
    mosquitto: Mosquitto,
) -> None:
    signer = Signer.generate("central-2026")
    service = Central.from_manifest(MANIFEST, signer=signer, wall_clock=time.time)
    verifier = Verifier({signer.key_id: signer.public_key()}, 30.0, time.time, MemorySeqStore())
    reception = Reception(verifier, MemoryJournal(), ["L01"])
    bridge = Bridge(
        "site", "gw-01", BrokerSettings.from_url(mosquitto.url), outbox=EmptyOutbox(),
        reception=reception, wall_clock=time.time, backoff=(0.05, 0.1),
    )  # fmt: skip
    central_ready, requests = asyncio.Event(), asyncio.Queue[dict[str, object]]()
    delivered = asyncio.Queue[VerifiedDecision]()
    async with aiomqtt.Client(HOST, mosquitto.port, timeout=WAIT_S) as watcher:
        await watcher.subscribe("gate/site/gw-01/L01/clearance/request", qos=1)

        async def watch() -> None:
            async for message in watcher.messages:
                assert isinstance(message.payload, bytes)
                await requests.put(json.loads(message.payload))

        central_client = aiomqtt.Client(HOST, mosquitto.port, timeout=WAIT_S)
        async with (
            running(
                asyncio.create_task(watch()),
                asyncio.create_task(serve_central(service, central_client, central_ready.set)),
                asyncio.create_task(bridge.run()),
            ),
            asyncio.timeout(WAIT_S),
        ):
            await central_ready.wait()
            await bridge.connected.wait()
            bridge.request("L01", "r-plate", None, delivered.put_nowait, plate="29C12345")
            asked = await requests.get()
            decision = await delivered.get()
            bridge.request("L01", "r-tag", TAG, delivered.put_nowait)
            asked_by_tag = await requests.get()
            by_tag = await delivered.get()
    assert (asked["plate"], "tag" in asked, asked["request_id"]) == ("29C12345", False, "r-plate")
    assert decision == VerifiedDecision("r-plate", Decision.GRANT, 31_000, None, "29C12345")
    assert ("plate" in asked_by_tag, asked_by_tag["tag"]) == (False, TAG)
    assert by_tag == VerifiedDecision("r-tag", Decision.GRANT, 31_000, None, "29C12345")
    assert reception.rejected == {}
