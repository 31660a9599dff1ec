"""The MQTT bridge: journal outbox out, signed decisions and commands in (DESIGN 6).

Theory of operation: one aiomqtt Client, reused across reconnects, with a persistent
session (client id `gatebridge-{site}-{gateway}`) and a retained last will saying
`offline`. While connected, one TaskGroup runs four tasks: the outbox drain, the inbox,
clearance requests and the retained lane states. The drain reads the journal's pending
rows in journal order, publishes a batch at QoS 1 (aiomqtt's publish returns on PUBACK)
and only then marks the batch delivered, so a crash or an outage anywhere in between
re-sends rather than loses (consumers dedupe on `event_id` / `transaction_id`). A lost
connection ends the group; the bridge waits a jittered, growing backoff and reconnects.
Incoming messages go to the Reception, which verifies them (S6); nothing a broker sends
can crash the bridge: a handler failure is logged and the message rejected.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import ssl
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

import aiomqtt

from controller.bridge.payloads import (
    ClearanceRequestPayload,
    EventPayload,
    IdentityPayload,
    Payload,
    StatePayload,
    StatusPayload,
    TransactionPayload,
    dump,
    gateway_topic,
    lane_topic,
    stage_walltimes,
    utc_text,
)
from controller.bridge.reception import Reception
from controller.bridge.verify import Kind
from controller.errors import ConfigError, keeping_cancellation
from controller.runtime.device_links import DeviceLinks
from controller.runtime.ports import DecisionSink

log = logging.getLogger(__name__)
BATCH = 100
IDLE_POLL_S = 0.25  # the drain also wakes on every lane event; this bounds a missed wake
STATE_PERIOD_S = 1.0
STOP_GRACE_S = 2.0  # a clean stop waits this long for the broker (offline status, DISCONNECT)


class OutboxRow(Protocol):
    @property
    def kind(self) -> str: ...
    @property
    def lane(self) -> str: ...
    @property
    def key(self) -> str: ...
    @property
    def seq(self) -> int | None: ...
    @property
    def ts(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def data(self) -> Mapping[str, object]: ...


class Outbox(Protocol):
    async def pending(self, limit: int = ...) -> Sequence[OutboxRow]: ...
    async def mark_delivered(self, keys: Sequence[str]) -> None: ...


@dataclass(frozen=True, slots=True)
class BrokerSettings:
    host: str
    port: int
    tls: bool
    username: str | None = None
    password: str | None = None
    ca_file: Path | None = None
    keepalive_s: int = 30

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        username: str | None = None,
        password_file: Path | None = None,
        ca_file: Path | None = None,
        keepalive_s: int = 30,
    ) -> BrokerSettings:
        parts = urlsplit(url)
        if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
            raise ConfigError("mqtt.url", f"{url!r}: mqtt://HOST[:PORT] or mqtts://HOST[:PORT]")
        tls = parts.scheme == "mqtts"
        password = None
        if password_file is not None:
            try:
                password = password_file.read_text(encoding="utf-8").strip()
            except OSError as error:
                raise ConfigError("mqtt.password_file", f"{password_file}: {error}") from None
        port = parts.port or (8883 if tls else 1883)
        return cls(parts.hostname, port, tls, username, password, ca_file, keepalive_s)

    def client(self, identifier: str, will: aiomqtt.Will | None = None) -> aiomqtt.Client:
        context = None
        if self.tls:
            context = ssl.create_default_context(
                cafile=None if self.ca_file is None else str(self.ca_file)
            )
        return aiomqtt.Client(
            self.host,
            self.port,
            username=self.username,
            password=self.password,
            identifier=identifier,
            clean_session=False,
            will=will,
            keepalive=self.keepalive_s,
            tls_context=context,
            timeout=10,
        )


class LaneView(Protocol):
    def snapshot(self) -> dict[str, object]: ...


class Bridge:
    def __init__(
        self,
        site: str,
        gateway: str,
        broker: BrokerSettings,
        *,
        outbox: Outbox,
        reception: Reception,
        wall_clock: Callable[[], float],
        backoff: tuple[float, float] = (0.5, 30.0),
        seed: int | None = None,
        log_link: bool = False,
    ) -> None:
        self.site, self.gateway = site, gateway
        self.outbox, self.reception = outbox, reception
        self.wall_clock = wall_clock
        self.lanes: dict[str, LaneView] = {}
        self.indicators: dict[str, str] = {}  # lane -> the weighing indicator's identity
        self.connected = asyncio.Event()
        self.published = 0
        self.connects = 0
        self._backoff = backoff
        self._rng = random.Random(seed)  # noqa: S311 - jitter, not security
        self._wake = asyncio.Event()
        self._requests: asyncio.Queue[tuple[float, ClearanceRequestPayload]] = asyncio.Queue()
        self._states: dict[str, dict[str, object]] = {}
        will = aiomqtt.Will(self._status_topic, self._status("offline"), qos=1, retain=True)
        self.client = broker.client(f"gatebridge-{site}-{gateway}", will)
        url = f"{'mqtts' if broker.tls else 'mqtt'}://{broker.host}:{broker.port}"
        self.link = DeviceLinks(None, {"broker": url}, logged=log_link, kind="broker")
        # a drained batch is BATCH publishes in flight at once, by design: not worth a warning
        self.client.pending_calls_threshold = BATCH + 20

    # ------------------------------------------------------------------ wiring
    def wake(self) -> None:
        """New rows may be in the journal: drain now rather than at the next poll."""
        self._wake.set()

    def request(
        self,
        lane: str,
        request_id: str,
        tag: str | None,
        deliver: DecisionSink,
        plate: str | None = None,
    ) -> None:
        """ClearancePort: publish the request (by tag, with the plate read if any, or by
        plate alone); the decision comes back verified, or never."""
        self.reception.expect(lane, request_id, deliver)
        payload = ClearanceRequestPayload(
            lane=lane,
            request_id=request_id,
            tag=tag,
            plate=plate,
            ts=utc_text(self.wall_clock()),
        )
        self._requests.put_nowait((self.wall_clock(), payload))

    # ------------------------------------------------------------------ lifecycle
    async def run(self) -> None:
        failures = 0
        while True:
            try:
                async with self._connection():
                    failures = 0
                    self.link.ok("broker", asyncio.get_running_loop().time())
                    await self._session()
            except aiomqtt.MqttError as error:
                now = asyncio.get_running_loop().time()
                self.link.lost("broker", str(error), now)  # once per loss, once at start,
                self.link.failed("broker", str(error), now)  # and each retry at debug
            except Exception:  # the lanes run on without a bridge; retry it
                log.exception("mqtt: the bridge failed; restarting it")
            finally:
                self.connected.clear()
            failures += 1
            await asyncio.sleep(self._delay(failures))

    @contextlib.asynccontextmanager
    async def _connection(self) -> AsyncIterator[None]:
        """The client's session; its graceful disconnect waits for the broker without a
        limit, which a stopping gateway cannot afford: bounded here."""
        await self.client.__aenter__()
        try:
            yield
        finally:
            with contextlib.suppress(aiomqtt.MqttError, TimeoutError):
                async with asyncio.timeout(STOP_GRACE_S):
                    await self.client.__aexit__(None, None, None)

    def _delay(self, failures: int) -> float:
        low, high = self._backoff
        growth: float = 2.0 ** min(failures - 1, 16)
        return min(high, low * growth) * self._rng.uniform(0.5, 1.0)

    async def _session(self) -> None:
        self.connects += 1
        topic = f"gate/{self.site}/{self.gateway}/+/"
        await self.client.subscribe([(topic + "clearance/decision", 1), (topic + "command", 1)])
        await self._publish(self._status_topic, self._status("online"), retain=True)
        self.connected.set()
        self._states.clear()  # a new session republishes every lane's state
        try:
            await self._connected_tasks()
        except asyncio.CancelledError:
            with contextlib.suppress(aiomqtt.MqttError, TimeoutError):
                # a clean stop says so; the will is for the unclean ones
                async with asyncio.timeout(STOP_GRACE_S):
                    await self._publish(self._status_topic, self._status("offline"), retain=True)
            raise

    async def _connected_tasks(self) -> None:
        try:
            async with asyncio.TaskGroup() as tg:
                tg.create_task(self._drain(), name="bridge:outbox")
                tg.create_task(self._inbox(), name="bridge:inbox")
                tg.create_task(self._send_requests(), name="bridge:requests")
                tg.create_task(self._send_states(), name="bridge:states")
        except BaseExceptionGroup as group:
            lost, rest = group.split(aiomqtt.MqttError)
            if lost is not None and rest is None:
                raise _first(lost) from None  # the connection broke: reconnect
            raise

    # ------------------------------------------------------------------ outgoing
    async def _drain(self) -> None:
        while True:
            self._wake.clear()
            rows = await self.outbox.pending(BATCH)
            if not rows:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(IDLE_POLL_S):
                        await self._wake.wait()
                continue
            # in order on one connection; all PUBACKs before any row counts as delivered
            await asyncio.gather(*(self._publish(*self._outgoing(row)) for row in rows))
            await self.outbox.mark_delivered([row.key for row in rows])
            self.published += len(rows)

    def _outgoing(self, row: OutboxRow) -> tuple[str, bytes]:
        if row.kind == "transaction":
            indicator = self.indicators.get(row.lane, "")
            return self._lane_topic(row.lane, "transactions"), transaction_payload(row, indicator)
        payload = EventPayload(
            lane=row.lane,
            event_id=row.key,
            seq=row.seq or 0,
            ts=row.ts,
            type=row.type,
            data=dict(row.data),
        )
        return self._lane_topic(row.lane, "events"), dump(payload)

    async def _send_requests(self) -> None:
        while True:
            asked_at, payload = await self._requests.get()
            if self.wall_clock() - asked_at > 60:
                continue  # the lane gave up on it long ago; a new request will follow
            await self._publish(self._lane_topic(payload.lane, "clearance/request"), dump(payload))

    async def _send_states(self) -> None:
        while True:
            for lane_id, lane in self.lanes.items():
                state = lane.snapshot()
                if self._states.get(lane_id) != state:
                    body = StatePayload(lane=lane_id, ts=utc_text(self.wall_clock()), state=state)
                    await self._publish(self._lane_topic(lane_id, "state"), dump(body), retain=True)
                    self._states[lane_id] = state
            await asyncio.sleep(STATE_PERIOD_S)

    async def _publish(self, topic: str, payload: bytes, *, retain: bool = False) -> None:
        await keeping_cancellation(
            self.client.publish(topic, payload, qos=1, retain=retain, timeout=10)
        )

    # ------------------------------------------------------------------ incoming
    async def _inbox(self) -> None:
        async for message in self.client.messages:
            kind, lane = self._route(str(message.topic))
            if kind is None:
                continue
            raw = message.payload if isinstance(message.payload, bytes) else b""
            try:
                await self.reception.receive(kind, lane, raw)
            except Exception:
                log.exception("mqtt: message on %s could not be handled", message.topic)

    def _route(self, topic: str) -> tuple[Kind | None, str]:
        parts = topic.split("/")
        if len(parts) < 5 or parts[:3] != ["gate", self.site, self.gateway]:
            return None, ""
        leaf = "/".join(parts[4:])
        kinds: dict[str, Kind] = {"clearance/decision": "decision", "command": "command"}
        return kinds.get(leaf), parts[3]

    # ------------------------------------------------------------------ helpers
    @property
    def _status_topic(self) -> str:
        return gateway_topic(self.site, self.gateway, "status")

    def _status(self, status: str) -> bytes:
        online = status == "online"
        body: Payload = StatusPayload(
            status="online" if online else "offline", ts=utc_text(self.wall_clock())
        )
        return dump(body)

    def _lane_topic(self, lane: str, leaf: str) -> str:
        return lane_topic(self.site, self.gateway, lane, leaf)


def _first(group: BaseExceptionGroup[aiomqtt.MqttError]) -> aiomqtt.MqttError:
    first = group.exceptions[0]
    return _first(first) if isinstance(first, BaseExceptionGroup) else first


def transaction_payload(row: OutboxRow, indicator: str = "") -> bytes:
    """The journaled record (the codec's JSON) as the transactions topic's payload."""
    record = dict(row.data)
    listed = record.get("stage_times")
    stages: dict[str, float] = dict(listed) if isinstance(listed, list) else {}
    body: dict[str, object] = {
        "lane": row.lane,
        "transaction_id": row.key,
        "ts": row.ts,
        "indicator": indicator,
        "raw_frame_hex": record.get("raw_frame") or "",
        "stage_times": stages,
        "stage_walltimes": stage_walltimes(stages, row.ts),
    }
    for name in ("request_id", "tag", "outcome", "decision", "gross_kg", "declared_gross_kg"):
        if record.get(name) is not None:
            body[name] = record[name]
    body["reason"] = record.get("reason") or ""
    identity = record.get("identity")
    if isinstance(identity, dict):  # the journal codec's asdict(IdentityCheck); None before
        # the contract's fields only: a field the record gains later must not stop the drain
        known = IdentityPayload.model_fields
        body["identity"] = {k: v for k, v in identity.items() if k in known and v is not None}
    return dump(TransactionPayload.model_validate(body))
