"""A lane end to end over MQTT, as deployed: a private mosquitto, `gatectl emulate`,
`gatectl run` with `mqtt:` configured, and (when wanted) `gatectl central`; a consumer
that records everything the gateway publishes, as the gate's central systems would."""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import aiomqtt
import yaml

from controller.bridge.signing import write_key_pair
from tests.broker import Mosquitto
from tests.e2e.test_emulate_and_run import ROOT, free_port, lane_config, process

SITE, GATEWAY = "huunghi-1119", "gw-01"
PREFIX = f"gate/{SITE}/{GATEWAY}/L01"


@dataclass
class Consumer:
    """Subscribes to everything under gate/ with a persistent session, and reconnects."""

    port: int
    messages: list[tuple[str, dict[str, object]]] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    async def run(self, ready: asyncio.Event) -> None:
        client = aiomqtt.Client(
            "127.0.0.1", self.port, identifier="central-consumer", clean_session=False
        )
        while True:
            with contextlib.suppress(aiomqtt.MqttError):
                async with client:
                    await client.subscribe("gate/#", qos=1)
                    ready.set()
                    async for message in client.messages:
                        self.messages.append((str(message.topic), _decoded(message.payload)))
                        self.changed.set()
            await asyncio.sleep(0.05)  # the broker is down: retry its port

    async def wait(self, predicate: Callable[[], bool], timeout: float) -> None:
        async with asyncio.timeout(timeout):
            while not predicate():
                self.changed.clear()
                await self.changed.wait()

    def on(self, leaf: str) -> list[dict[str, object]]:
        return [body for topic, body in self.messages if topic == f"{PREFIX}/{leaf}"]

    def events(self) -> list[dict[str, object]]:
        """The lane's events, deduplicated by event_id, in the order they first arrived."""
        seen: set[object] = set()
        unique = []
        for body in self.on("events"):
            if body["event_id"] not in seen:
                seen.add(body["event_id"])
                unique.append(body)
        return unique


async def poll(condition: Callable[[], Awaitable[bool]], timeout: float) -> None:
    """Wait for a condition on another process's state (a file, an emulator's answer),
    which has nothing to await: ask again every 50 ms until it holds or time is up."""
    async with asyncio.timeout(timeout):
        while not await condition():  # noqa: ASYNC110 - polling another process, by design
            await asyncio.sleep(0.05)


def _decoded(payload: object) -> dict[str, object]:
    """A message as JSON; anything else (the garbage tests publish some) kept raw."""
    try:
        body = json.loads(payload if isinstance(payload, bytes) else b"")
    except ValueError:
        return {"raw": repr(payload)}
    return body if isinstance(body, dict) else {"raw": body}


@dataclass
class MqttLane:
    tmp: Path
    broker: Mosquitto
    consumer: Consumer
    config: Path
    keys: tuple[Path, Path]
    control: Path

    @property
    def journal(self) -> Path:
        return self.tmp / "journal.db"

    def journal_events(self) -> list[tuple[int, str]]:
        with contextlib.closing(sqlite3.connect(f"file:{self.journal}?mode=ro", uri=True)) as db:
            rows = db.execute("SELECT seq, event_id FROM events WHERE lane = 'L01' ORDER BY seq")
            return [(int(seq), str(event_id)) for seq, event_id in rows]

    def journal_transactions(self) -> set[str]:
        with contextlib.closing(sqlite3.connect(f"file:{self.journal}?mode=ro", uri=True)) as db:
            return {str(row[0]) for row in db.execute("SELECT transaction_id FROM transactions")}

    def emulate(
        self, *extra: str
    ) -> contextlib.AbstractAsyncContextManager[asyncio.subprocess.Process]:
        args = ("emulate", "--config", str(self.config), "--time-scale", "4")
        return process(*args, "--control", str(self.control), *extra, ready="ready")

    def run(self) -> contextlib.AbstractAsyncContextManager[asyncio.subprocess.Process]:
        return process("run", "--config", str(self.config), ready="running")

    def central(self) -> contextlib.AbstractAsyncContextManager[asyncio.subprocess.Process]:
        return process(
            "central",
            "--manifest",
            str(ROOT / "deploy/examples/manifest.yaml"),
            "--signing-key",
            str(self.keys[0]),
            "--key-id",
            "central-2026",
            "--mqtt",
            self.broker.url,
            ready="central: ready",
        )

    async def emulator(self, request: Mapping[str, object]) -> dict[str, object]:
        reader, writer = await asyncio.open_unix_connection(str(self.control))
        writer.write(json.dumps(request).encode() + b"\n")
        await writer.drain()
        answer = json.loads(await reader.readline())
        writer.close()
        return dict(answer)


def mqtt_config(tmp: Path, broker: Mosquitto, public_key: Path, latch_ms: int = 5000) -> Path:
    path = lane_config(tmp, free_port())
    document = yaml.safe_load(path.read_text())
    document["mqtt"] = {"url": broker.url, "keepalive_s": 5}
    document["clearance"] = {
        "verify_keys": {"central-2026": str(public_key)},
        "timeout_s": 10,
        "max_clock_skew_s": 30,
    }
    document["lanes"][0]["timing"]["latch_ms"] = latch_ms
    path.write_text(yaml.safe_dump(document))
    return path


@asynccontextmanager
async def mqtt_lane(tmp: Path, latch_ms: int = 5000) -> AsyncIterator[MqttLane]:
    # autosave on every change: the consumer's session survives a broker SIGKILL
    broker = Mosquitto(
        tmp / "mosquitto", extra_conf="autosave_interval 1\nautosave_on_changes true\n"
    )
    broker.start()
    keys = write_key_pair(tmp / "keys", "central-2026")
    consumer = Consumer(broker.port)
    ready = asyncio.Event()
    task = asyncio.create_task(consumer.run(ready))
    try:
        async with asyncio.timeout(10):
            await ready.wait()
        yield MqttLane(
            tmp,
            broker,
            consumer,
            mqtt_config(tmp, broker, keys[1], latch_ms),
            keys,
            tmp / "emulate.sock",
        )
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        broker.stop()


# ---------------------------------------------------------------------- kill -9 loops
REDS_ONLY = 0b0101  # entry_red and exit_red on, both greens off (the wiring of the example)


async def maintenance(lane: MqttLane, request: Mapping[str, object]) -> dict[str, object]:
    """One request to the running controller's maintenance socket (root: an officer)."""
    reader, writer = await asyncio.open_unix_connection(str(lane.tmp / "gatectl.sock"))
    writer.write(json.dumps(request).encode() + b"\n")
    await writer.drain()
    answer = json.loads(await reader.readline())
    writer.close()
    return dict(answer)


async def lane_status(lane: MqttLane) -> dict[str, object]:
    answer = await maintenance(lane, {"op": "status"})
    lanes = answer["data"]["lanes"]  # type: ignore[index]
    return dict(lanes[0])


async def lights_left_red(lane: MqttLane) -> bool:
    """What the I/O module shows with nobody driving it: its watchdog's safe pattern."""
    io = (await lane.emulator({"op": "status"}))["lanes"]["L01"]["io"]  # type: ignore[index]
    return bool(io["watchdog_tripped"]) and int(io["outputs"]) & 0b1111 == REDS_ONLY


async def resolve_holds(lane: MqttLane) -> None:
    """The officer on duty: a lane that restarted into HOLD (a vehicle whose record was
    not committed) is released, as DESIGN 3 expects a person to decide."""
    release = {"op": "hold", "lane": "L01", "action": "release", "reason": "officer checked"}
    while True:
        with contextlib.suppress(OSError, KeyError, ValueError):
            if (await lane_status(lane))["state"] == "hold":
                await maintenance(lane, release)
        await asyncio.sleep(0.2)  # the officer's round, not synchronisation


@asynccontextmanager
async def officer_on_duty(lane: MqttLane) -> AsyncIterator[None]:
    task = asyncio.create_task(resolve_holds(lane))
    try:
        yield
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def kill_loop(lane: MqttLane, runs: int, seed: int) -> int:
    """Start the controller, SIGKILL it at a random point of the traffic, `runs` times;
    after each kill, the lane must go to its safe state by itself. Returns the kills."""
    rng = random.Random(seed)
    for _ in range(runs):
        async with lane.run() as controller, officer_on_duty(lane):
            # not synchronisation: this picks the random point at which to crash
            await asyncio.sleep(rng.uniform(0.2, 5.0))
            controller.kill()
            await controller.wait()
        await poll(lambda: lights_left_red(lane), timeout=10)
    return runs


def integrity(lane: MqttLane) -> str:
    with contextlib.closing(sqlite3.connect(f"file:{lane.journal}?mode=ro", uri=True)) as db:
        return str(db.execute("PRAGMA integrity_check").fetchone()[0])


def committed(lane: MqttLane) -> list[tuple[str, str | None, str]]:
    """(transaction_id, tag, outcome) of every committed transaction in the journal."""
    with contextlib.closing(sqlite3.connect(f"file:{lane.journal}?mode=ro", uri=True)) as db:
        rows = db.execute("SELECT transaction_id, record FROM transactions ORDER BY rowid")
        return [(str(t), json.loads(r)["tag"], json.loads(r)["outcome"]) for t, r in rows]
