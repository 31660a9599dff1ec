"""The MQTT contract end to end (DESIGN section 6): clearance over a real mosquitto, events
that survive a broker crash, and signed-message checks seen from the wire and the
barrier. Real time with the emulators' --time-scale; waits are on conditions."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path

import aiomqtt

from controller.bridge.payloads import utc_text
from controller.bridge.signing import Signer, load_private_key, write_key_pair
from tests.e2e.mqtt_lane import PREFIX, MqttLane, mqtt_lane, poll


def assert_in_order_without_gaps(lane: MqttLane, upto: int) -> None:
    """Every journaled event up to seq `upto` arrived; after dedupe, in seq order."""
    received = [(int(str(e["seq"])), str(e["event_id"])) for e in lane.consumer.events()]
    received = [pair for pair in received if pair[0] <= upto]
    assert received == [pair for pair in lane.journal_events() if pair[0] <= upto]
    assert [seq for seq, _ in received] == list(range(1, upto + 1))


async def test_a_lane_clears_trucks_through_central_over_mqtt(tmp_path: Path) -> None:
    async with mqtt_lane(tmp_path) as lane:
        consumer = lane.consumer
        async with lane.central(), lane.emulate("--saturate", "1"), lane.run():
            await consumer.wait(lambda: len(consumer.on("transactions")) >= 2, timeout=120)
        status = [body for topic, body in consumer.messages if topic.endswith("gw-01/status")]
        assert status[0]["status"] == "online"
        assert status[-1]["status"] == "offline"  # a clean stop says so itself
        assert consumer.on("state")[-1]["schema"] == "gatebridge.state/1"
        transactions = consumer.on("transactions")
        assert all(str(t["indicator"]).startswith("toledo@serial://") for t in transactions)
        assert any(t["outcome"] == "cleared" and t["gross_kg"] for t in transactions)
        requests = consumer.on("clearance/request")
        decisions = consumer.on("clearance/decision")
        assert {d["request_id"] for d in decisions} <= {r["request_id"] for r in requests}
        assert {str(t["transaction_id"]) for t in transactions} <= lane.journal_transactions()
        assert_in_order_without_gaps(lane, upto=int(str(consumer.events()[-1]["seq"])))
        assert not any(e["type"] == "rejected_message" for e in consumer.events())


async def test_events_published_during_a_broker_crash_all_arrive_in_order(tmp_path: Path) -> None:
    async with mqtt_lane(tmp_path) as lane:
        consumer = lane.consumer
        async with lane.central(), lane.emulate("--saturate", "1"), lane.run():
            await consumer.wait(lambda: len(consumer.on("transactions")) >= 1, timeout=120)
            lane.broker.kill()
            before = len(lane.journal_events())

            async def journaled_more() -> bool:  # the lane keeps journaling while it is down
                return len(lane.journal_events()) >= before + 5

            await poll(journaled_more, timeout=60)
            backlog_upto = lane.journal_events()[-1][0]
            lane.broker.restart()
            await consumer.wait(
                lambda: any(int(str(e["seq"])) >= backlog_upto for e in consumer.events()),
                timeout=90,
            )
        assert_in_order_without_gaps(lane, upto=backlog_upto)


# ---------------------------------------------------------------------- S6 on the wire
def signed(signer: Signer, **body: object) -> dict[str, object]:
    now = float(str(body.pop("now")))
    body.setdefault("issued_at", utc_text(now))
    body.setdefault("expires_at", utc_text(now + 60))
    return signer.sign(body)


def decision(request: dict[str, object], seq: int, now: float, **over: object) -> dict[str, object]:
    body: dict[str, object] = {
        "schema": "gatebridge.decision/1",
        "lane": "L01",
        "tag": request["tag"],
        "request_id": request["request_id"],
        "decision": "grant",
        "seq": seq,
        "now": now,
    }
    return {**body, **over}


def command(seq: int, now: float, **over: object) -> dict[str, object]:
    body: dict[str, object] = {
        "schema": "gatebridge.command/1",
        "lane": "L01",
        "command": "mode",
        "target": "",
        "args": {"mode": "auto"},
        "seq": seq,
        "now": now,
    }
    return {**body, **over}


def attacks(
    trusted: Signer, other: Signer, revoked: Signer, request: dict[str, object], now: float
) -> list[tuple[str, dict[str, object], str]]:
    """(topic leaf, message, expected reason): every way S6 names, none acceptable."""
    good = signed(trusted, **decision(request, 5, now))
    forged = {**good, "sig": base64.b64encode(b"\x00" * 64).decode()}
    tampered = {**good, "decision": "inspect"}
    wrong_key = signed(Signer("central-2026", other.key), **decision(request, 6, now))
    unsigned = {k: v for k, v in signed(trusted, **decision(request, 7, now)).items() if k != "sig"}
    past = now - 3600
    leaf = "clearance/decision"
    return [
        (leaf, forged, "bad_signature"),
        (leaf, tampered, "bad_signature"),
        (leaf, wrong_key, "bad_signature"),
        (leaf, signed(revoked, **decision(request, 8, now)), "unknown_key"),
        (leaf, unsigned, "unsigned"),
        (leaf, signed(trusted, **decision(request, 9, past)), "expired"),
        (leaf, signed(trusted, **decision(request, 10, now, lane="L02")), "wrong_lane"),
        (leaf, signed(trusted, **decision(request, 11, now, request_id="r-x")), "wrong_request"),
        (
            "command",
            {**signed(trusted, **command(1, now, command="release")), "target": "x"},
            "bad_signature",
        ),
        ("command", signed(trusted, **command(2, past, command="release")), "expired"),
        ("command", signed(revoked, **command(3, now, command="reset")), "unknown_key"),
    ]


def rejections(lane: MqttLane) -> list[tuple[str, str]]:
    """(reason, detail) of the lane's rejected_message events, in order."""
    found = []
    for event in lane.consumer.events():
        data = event["data"]
        if event["type"] == "rejected_message" and isinstance(data, dict):
            found.append((str(data["reason"]), str(data["detail"])))
    return found


async def entry_barrier(lane: MqttLane) -> dict[str, object]:
    status = await lane.emulator({"op": "status"})
    return dict(status["lanes"]["L01"]["barriers"]["entry"])  # type: ignore[index]


async def test_no_bad_decision_or_command_moves_the_barrier_and_a_good_one_does(
    tmp_path: Path,
) -> None:
    async with mqtt_lane(tmp_path) as lane:
        consumer = lane.consumer
        trusted = Signer("central-2026", load_private_key(lane.keys[0]))
        revoked_keys = write_key_pair(tmp_path / "keys", "central-2025")  # not in the config
        revoked = Signer("central-2025", load_private_key(revoked_keys[0]))
        other = Signer.generate("central-2026")
        async with (
            lane.emulate(),
            lane.run(),
            aiomqtt.Client("127.0.0.1", lane.broker.port) as officer,
        ):
            await lane.emulator({"op": "spawn", "lane": "L01", "behaviour": "obey"})
            await consumer.wait(lambda: bool(consumer.on("clearance/request")), timeout=60)
            request = consumer.on("clearance/request")[0]
            closed = await entry_barrier(lane)
            now = time.time()
            cases = attacks(trusted, other, revoked, request, now)
            valid_command = signed(trusted, **command(20, now))
            for leaf, message, _ in [*cases, ("command", valid_command, "")]:
                await officer.publish(f"{PREFIX}/{leaf}", json.dumps(message), qos=1)
            await officer.publish(f"{PREFIX}/command", json.dumps(valid_command), qos=1)  # replay
            await consumer.wait(lambda: len(rejections(lane)) >= len(cases) + 1, timeout=30)
            reasons = [reason for reason, _ in rejections(lane)]
            assert reasons == [reason for _, _, reason in cases] + ["replayed"]
            assert await entry_barrier(lane) == closed  # nothing moved
            assert closed["state"] == "closed"
            good = signed(trusted, **decision(request, 30, now))
            await officer.publish(f"{PREFIX}/clearance/decision", json.dumps(good), qos=1)
            await consumer.wait(
                lambda: any(e["type"] == "clearance_decided" for e in consumer.events()), timeout=30
            )

            async def entry_moving() -> bool:
                return (await entry_barrier(lane))["state"] != "closed"

            await poll(entry_moving, timeout=30)
        audit = (tmp_path / "audit.log").read_text().splitlines()
        actions = [json.loads(line)["action"] for line in audit]
        assert (
            actions.count("decision_rejected") + actions.count("command_rejected") == len(cases) + 1
        )
        assert actions.count("decision_accepted") == 1


async def test_garbage_payloads_are_rejected_and_the_bridge_stays_alive(tmp_path: Path) -> None:
    garbage = [b"", b"\xff\xfe", b"[]", b"null", b"{", b'{"sig": 5}', b"x" * 20_000, "ünï".encode()]
    async with mqtt_lane(tmp_path) as lane:
        consumer = lane.consumer
        trusted = Signer("central-2026", load_private_key(lane.keys[0]))
        async with (
            lane.emulate(),
            lane.run(),
            aiomqtt.Client("127.0.0.1", lane.broker.port) as rogue,
        ):
            await consumer.wait(lambda: bool(consumer.on("state")), timeout=30)
            for payload in garbage:
                await rogue.publish(f"{PREFIX}/clearance/decision", payload, qos=1)
                await rogue.publish(f"{PREFIX}/command", payload, qos=1)
            await rogue.publish(
                "gate/huunghi-1119/gw-01/L01/clearance/decision/extra", b"{}", qos=1
            )
            await rogue.publish("gate/huunghi-1119/gw-01/L77/command", b"{}", qos=1)
            now = time.time()
            await rogue.publish(
                f"{PREFIX}/command", json.dumps(signed(trusted, **command(1, now))), qos=1
            )
            gateway_events = "gate/huunghi-1119/gw-01/_gateway/events"
            await consumer.wait(
                lambda: any(topic == gateway_events for topic, _ in consumer.messages), timeout=30
            )
            rejected = [reason for reason, _ in rejections(lane)]
            assert len(rejected) == 2 * len(garbage)
            assert set(rejected) == {"malformed", "unknown_key"}  # {"sig": 5} has no key_id
        audit = [json.loads(line) for line in (tmp_path / "audit.log").read_text().splitlines()]
        assert [e["action"] for e in audit].count("command_accepted") == 1  # alive after all that
