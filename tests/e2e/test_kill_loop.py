"""kill -9 of the controller at random points during traffic, in a loop (DESIGN 10):
no committed transaction lost, none duplicated after dedupe, a safe lane while the
controller is dead, a latched fault still latched after a restart. Real processes, a
real broker, the emulators at --time-scale; waits are on conditions."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path

from tests.e2e.mqtt_lane import (
    MqttLane,
    committed,
    integrity,
    kill_loop,
    lane_status,
    maintenance,
    mqtt_lane,
    officer_on_duty,
    poll,
)

RUNS = int(os.environ.get("GATEBRIDGE_KILL_RUNS", "20"))


def latched_in_journal(lane: MqttLane) -> str | None:
    with contextlib.closing(sqlite3.connect(f"file:{lane.journal}?mode=ro", uri=True)) as db:
        row = db.execute("SELECT reason FROM faults WHERE lane = 'L01'").fetchone()
    return None if row is None else row[0]


async def latched_fault_survives_a_kill(lane: MqttLane) -> None:
    """Silence the entry barrier past latch_ms, SIGKILL, restart: still latched (S7),
    lights red; an officer's reset clears it once the barrier answers again."""
    async with lane.run() as controller:

        async def running() -> bool:
            return (await lane_status(lane))["state"] not in ("starting", "booting")

        await poll(running, timeout=30)
        silence = {"kind": "no_reply", "duration_s": 20.0}  # emulated: 5 s at --time-scale 4
        answer = await lane.emulator(
            {"op": "fault", "lane": "L01", "device": "entry_barrier", "fault": silence}
        )
        assert answer["ok"], answer

        async def latched() -> bool:
            return bool((await lane_status(lane))["latched_fault"])

        async def journaled() -> bool:  # the latch is durable once written (S10), not before
            return latched_in_journal(lane) is not None

        await poll(latched, timeout=30)
        await poll(journaled, timeout=10)
        controller.kill()
        await controller.wait()
    async with lane.run(), officer_on_duty(lane):

        async def restored() -> bool:
            return (await lane_status(lane))["state"] != "starting"

        await poll(restored, timeout=10)
        status = await lane_status(lane)
        assert status["latched_fault"], status  # read back from the journal at start
        assert status["lights"] == {"entry": "red", "exit": "red"}

        async def reset_accepted() -> bool:
            reset = {"op": "reset", "lane": "L01", "reason": "barrier bus restored"}
            answer = (await maintenance(lane, reset))["data"]
            return isinstance(answer, dict) and bool(answer.get("accepted"))

        await poll(reset_accepted, timeout=60)
        assert (await lane_status(lane))["latched_fault"] is None
    assert latched_in_journal(lane) is None  # the reset was journaled before the clean stop


async def test_sigkill_loop_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    async with mqtt_lane(tmp_path, latch_ms=1000) as lane:
        consumer = lane.consumer
        async with lane.central(), lane.emulate("--saturate", "1"):
            await latched_fault_survives_a_kill(lane)
            assert await kill_loop(lane, RUNS, seed=7) == RUNS
            async with lane.run(), officer_on_duty(lane):  # a last, clean run drains

                def drained() -> bool:
                    received = {str(t["transaction_id"]) for t in consumer.on("transactions")}
                    journaled = {t for t, _, _ in committed(lane)}
                    return len(journaled) >= 2 and journaled <= received

                await consumer.wait(drained, timeout=180)
        assert integrity(lane) == "ok"
        records = committed(lane)
        received = [str(t["transaction_id"]) for t in consumer.on("transactions")]
        assert set(received) == {t for t, _, _ in records}  # nothing lost, nothing invented
        weighed = [tag for _, tag, outcome in records if outcome == "cleared"]
        assert len(weighed) == len(set(weighed))  # no truck weighed and cleared twice
        seqs = [seq for seq, _ in lane.journal_events()]
        assert seqs == list(range(1, len(seqs) + 1))  # gapless across every crash
        events = consumer.events()
        in_order = [int(str(e["seq"])) for e in events]
        assert in_order == sorted(in_order)  # replayed in order, after dedupe
