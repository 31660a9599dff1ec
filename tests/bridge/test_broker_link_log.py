"""The bridge logs its broker link once per change (connected, lost, recovered), its
retries only at debug: against a real mosquitto that is killed and started again."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from pathlib import Path

from controller.bridge.mqtt import Bridge, BrokerSettings
from controller.bridge.reception import Reception
from controller.bridge.verify import MemorySeqStore, Verifier
from controller.journal.sqlite import SqliteJournal
from tests.broker import Mosquitto


class Told(logging.Handler):
    """The broker link's records, and a wake-up for each (emit runs on the loop's thread)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.events: list[tuple[int, str]] = []
        self.arrived = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        self.events.append((record.levelno, str(getattr(record, "event", ""))))
        self.arrived.set()

    async def until(self, event: str, count: int = 1) -> None:
        async with asyncio.timeout(20):
            while sum(e == event for _, e in self.events) < count:
                self.arrived.clear()
                await self.arrived.wait()


async def test_the_broker_link_is_logged_once_per_change(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    journal = await SqliteJournal.open(tmp_path / "journal.db", time.time, outbox=True)
    reception = Reception(Verifier({}, 30.0, time.time, MemorySeqStore()), journal, ["L01"])
    bridge = Bridge(
        "site", "gw-01", BrokerSettings.from_url(mosquitto.url), outbox=journal,
        reception=reception, wall_clock=time.time, backoff=(0.05, 0.1), log_link=True,
    )  # fmt: skip
    told, logger = Told(), logging.getLogger("controller.runtime.devices")
    logger.addHandler(told)
    logger.setLevel(logging.DEBUG)
    running = asyncio.create_task(bridge.run())
    try:
        await told.until("broker_connected")
        async with asyncio.timeout(20):
            await bridge.connected.wait()  # subscribed and online: the session runs
        mosquitto.kill()
        await told.until("broker_lost")
        await told.until("broker_error", 3)  # three retries against a dead broker
        mosquitto.start()
        await told.until("broker_recovered")
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running
        logger.removeHandler(told)
        logger.setLevel(logging.NOTSET)
        await journal.close()
    news = [event for level, event in told.events if level >= logging.INFO]
    assert news == ["broker_connected", "broker_lost", "broker_recovered"]
