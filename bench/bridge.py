"""Store-and-forward through the journal and the MQTT bridge to a real mosquitto.

    python -m bench.bridge [--quick] [--events N] [--outage-s S] [--rate E] [--kill-runs K]

(1) throughput: N events appended to the SQLite journal (WAL, synchronous=FULL, one
fsync per event, as the lanes write them) while the bridge drains the outbox to a
private mosquitto; events/s from the first append to the last one a consumer received.
(2) outage: E events/s for the whole run, the broker SIGKILLed for S seconds in the
middle: events lost (must be 0), the outbox backlog's peak, and the drain time from the
broker's restart to the last backlog event received. (3) the e2e kill -9 loop of
tests/e2e (real processes: emulate, run, central) K times: transactions lost and
duplicated (must be 0). Prints a table and writes bench/results/bridge.json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path

import aiomqtt

from bench.common import report
from controller.bridge.mqtt import Bridge, BrokerSettings
from controller.bridge.reception import Reception
from controller.bridge.verify import MemorySeqStore, Verifier
from controller.journal.sqlite import SqliteJournal
from tests.broker import Mosquitto

TOPIC = "gate/bench/gw-01/L01/events"


class Received:
    """A consumer with a persistent session that survives the broker's SIGKILL."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.ids: dict[str, float] = {}
        self.duplicates = 0
        self.changed = asyncio.Event()
        self.ready = asyncio.Event()

    async def run(self) -> None:
        client = aiomqtt.Client(
            "127.0.0.1", self.port, identifier="bench-consumer", clean_session=False
        )
        while True:
            with contextlib.suppress(aiomqtt.MqttError):
                async with client:
                    await client.subscribe(TOPIC, qos=1)
                    self.ready.set()
                    async for message in client.messages:
                        self._note(message.payload)
            await asyncio.sleep(0.05)  # the broker is down: retry its port

    def _note(self, payload: object) -> None:
        event_id = json.loads(payload if isinstance(payload, bytes) else b"{}")["event_id"]
        if event_id in self.ids:
            self.duplicates += 1
        else:
            self.ids[event_id] = time.perf_counter()
        self.changed.set()

    async def wait_for(self, count: int, timeout_s: float) -> None:
        async with asyncio.timeout(timeout_s):
            while len(self.ids) < count:
                self.changed.clear()
                await self.changed.wait()


async def bridged(tmp: Path, broker: Mosquitto) -> tuple[SqliteJournal, Bridge]:
    journal = await SqliteJournal.open(tmp / "journal.db", time.time, outbox=True)
    verifier = Verifier({}, 30.0, time.time, MemorySeqStore())
    reception = Reception(verifier, journal, ["L01"])
    settings = BrokerSettings.from_url(broker.url)
    bridge = Bridge(
        "bench",
        "gw-01",
        settings,
        outbox=journal,
        reception=reception,
        wall_clock=time.time,
        backoff=(0.2, 1.0),
    )
    return journal, bridge


async def append(journal: SqliteJournal, bridge: Bridge, index: int) -> None:
    data: Mapping[str, object] = {"index": index, "note": "bench"}
    await journal.append_event("L01", "bench_event", data)
    bridge.wake()


async def throughput(events: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as work:
        tmp = Path(work)
        with Mosquitto(tmp / "broker") as broker:
            consumer = Received(broker.port)
            journal, bridge = await bridged(tmp, broker)
            async with asyncio.TaskGroup() as tg:
                tasks = [tg.create_task(consumer.run()), tg.create_task(bridge.run())]
                await consumer.ready.wait()
                await bridge.connected.wait()
                start = time.perf_counter()
                for index in range(events):
                    await append(journal, bridge, index)
                appended = time.perf_counter()
                await consumer.wait_for(events, 120)
                done = max(consumer.ids.values())
                for task in tasks:
                    task.cancel()
            await journal.close()
    return {
        "journal_appends_per_s": events / (appended - start),
        "end_to_end_events_per_s": events / (done - start),
        "duplicates": float(consumer.duplicates),
    }


async def outage(rate: float, outage_s: float, total_s: float) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as work:
        tmp = Path(work)
        extra = "autosave_interval 1\nautosave_on_changes true\n"  # the consumer's session survives
        with Mosquitto(tmp / "broker", extra_conf=extra) as broker:
            consumer = Received(broker.port)
            journal, bridge = await bridged(tmp, broker)
            peak, sent = 0, 0
            async with asyncio.TaskGroup() as tg:
                tasks = [tg.create_task(consumer.run()), tg.create_task(bridge.run())]
                await consumer.ready.wait()
                await bridge.connected.wait()
                loop = asyncio.get_running_loop()
                start = loop.time()
                down_at, up_at = start + (total_s - outage_s) / 2, start + (total_s + outage_s) / 2
                restarted, backlog = 0.0, 0
                while (now := loop.time()) < start + total_s:
                    if broker.running and down_at <= now < up_at:
                        broker.kill()
                    elif not broker.running and now >= up_at:
                        broker.restart()
                        restarted, backlog = time.perf_counter(), sent
                    await append(journal, bridge, sent)
                    sent += 1
                    peak = max(peak, await journal.pending_count())
                    await asyncio.sleep(max(0.0, start + sent / rate - loop.time()))  # the rate
                await consumer.wait_for(sent, 120)
                # delivery is in order: the backlog is in when its last event is
                drained = sorted(consumer.ids.values())[backlog - 1] - restarted
                for task in tasks:
                    task.cancel()
            await journal.close()
    return {
        "sent": float(sent),
        "lost": float(sent - len(consumer.ids)),
        "backlog_peak": float(peak),
        "drain_s": drained,
        "duplicates": float(consumer.duplicates),
    }


async def kill_loop(runs: int) -> dict[str, float]:
    from tests.e2e.mqtt_lane import committed, integrity, kill_loop, mqtt_lane, officer_on_duty

    with tempfile.TemporaryDirectory() as work:
        async with mqtt_lane(Path(work)) as lane:
            consumer = lane.consumer
            async with lane.central(), lane.emulate("--saturate", "1"):
                await kill_loop(lane, runs, seed=11)
                async with lane.run(), officer_on_duty(lane):

                    def drained() -> bool:
                        received = {str(t["transaction_id"]) for t in consumer.on("transactions")}
                        return {t for t, _, _ in committed(lane)} <= received

                    await consumer.wait(drained, timeout=300)
            records = committed(lane)
            journaled = {t for t, _, _ in records}
            received = [str(t["transaction_id"]) for t in consumer.on("transactions")]
            cleared = [tag for _, tag, outcome in records if outcome == "cleared"]
            return {
                "kills": float(runs),
                "transactions": float(len(records)),
                "lost": float(len(journaled - set(received))),
                "duplicated_after_dedupe": float(len(cleared) - len(set(cleared))),
                "redelivered_copies": float(len(received) - len(set(received))),
                "integrity_ok": float(integrity(lane) == "ok"),
            }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (a few minutes)")
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--rate", type=float, default=50.0, help="events/s during the outage run")
    parser.add_argument("--outage-s", type=float, default=20.0)
    parser.add_argument("--kill-runs", type=int, default=200)
    args = parser.parse_args()
    if args.quick:
        args.events, args.outage_s, args.kill_runs = 1000, 5.0, 20
    flow = asyncio.run(throughput(args.events))
    gap = asyncio.run(outage(args.rate, args.outage_s, args.outage_s * 3))
    kills = asyncio.run(kill_loop(args.kill_runs))
    rows: list[tuple[str, object, str]] = [
        ("journal appends/s (fsync each)", flow["journal_appends_per_s"], "report"),
        ("events/s journal -> mosquitto -> consumer", flow["end_to_end_events_per_s"], "report"),
        (f"outage {args.outage_s:.0f} s at {args.rate:.0f} ev/s: sent", int(gap["sent"]), ""),
        ("outage: events lost", int(gap["lost"]), "0"),
        ("outage: backlog peak (events)", int(gap["backlog_peak"]), "report"),
        ("outage: drain after restart (s)", gap["drain_s"], "report"),
        ("outage: duplicates (deduped by event_id)", int(gap["duplicates"]), "report"),
        ("kill -9 loop: runs", int(kills["kills"]), ">= 200"),
        ("kill -9 loop: transactions committed", int(kills["transactions"]), ""),
        ("kill -9 loop: lost", int(kills["lost"]), "0"),
        ("kill -9 loop: duplicated after dedupe", int(kills["duplicated_after_dedupe"]), "0"),
        ("kill -9 loop: redelivered copies (deduped)", int(kills["redelivered_copies"]), "report"),
        ("kill -9 loop: integrity_check ok", bool(kills["integrity_ok"]), "True"),
    ]
    report("bridge", rows, {"args": vars(args)})


if __name__ == "__main__":
    main()
