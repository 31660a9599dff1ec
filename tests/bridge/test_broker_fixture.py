"""The test broker itself (tests/broker.py): it starts on a free loopback port, carries
QoS 1 both ways, survives a kill and a restart on the same port, and a client comes back.
Waits are on conditions under asyncio timeouts, never fixed sleeps."""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path

import aiomqtt
import pytest

from tests.broker import HOST, Mosquitto

WAIT_S = 5


async def next_message(client: aiomqtt.Client) -> aiomqtt.Message:
    async with asyncio.timeout(WAIT_S):
        return await anext(client.messages)


def client(broker: Mosquitto, identifier: str | None = None) -> aiomqtt.Client:
    return aiomqtt.Client(
        HOST,
        broker.port,
        identifier=identifier,
        clean_session=identifier is None,
        timeout=WAIT_S,
    )


def time_wait_on(port: int) -> bool:
    """A TCP socket in TIME_WAIT (state 06) with local port `port` (Linux /proc)."""
    rows = Path("/proc/net/tcp").read_text().splitlines()[1:]
    return any(
        int(row.split()[1].split(":")[1], 16) == port and row.split()[3] == "06" for row in rows
    )


def test_starts_on_a_free_loopback_port(mosquitto: Mosquitto) -> None:
    assert mosquitto.running
    assert mosquitto.port != 1883
    assert mosquitto.url == f"mqtt://127.0.0.1:{mosquitto.port}"
    assert f"listener {mosquitto.port} 127.0.0.1" in mosquitto.conf_path.read_text()
    os.kill(mosquitto.pid, 0)  # our process, alive
    assert "running" in mosquitto.log()


async def test_qos1_roundtrip(mosquitto: Mosquitto) -> None:
    async with client(mosquitto) as subscriber, client(mosquitto) as publisher:
        await subscriber.subscribe("gate/s1/gw-01/+/events", qos=1)
        await publisher.publish("gate/s1/gw-01/L01/events", b'{"seq": 1}', qos=1)
        message = await next_message(subscriber)
    assert message.topic.value == "gate/s1/gw-01/L01/events"
    assert message.payload == b'{"seq": 1}'
    assert message.qos == 1


async def test_kill_and_restart_on_the_same_port_and_a_client_reconnects(
    mosquitto: Mosquitto,
) -> None:
    port, pid = mosquitto.port, mosquitto.pid
    connected = client(mosquitto, identifier="gatebridge-s1-gw-01")
    async with connected:
        await connected.subscribe("gate/s1/gw-01/+/command", qos=1)
        mosquitto.kill()
        with pytest.raises(aiomqtt.MqttError):
            await next_message(connected)  # the client sees its broker go
    assert not mosquitto.running
    # the broker closed first, so the kernel holds its side of the connection: a new
    # listener binds the port only because mosquitto sets SO_REUSEADDR
    assert time_wait_on(port)

    mosquitto.restart()
    assert (mosquitto.port, mosquitto.url) == (port, f"mqtt://127.0.0.1:{port}")
    assert mosquitto.pid != pid
    # reconnect: a new aiomqtt.Client with the same client id (kill() lost the session,
    # so the client subscribes again, as the bridge does after every connect)
    async with client(mosquitto, "gatebridge-s1-gw-01") as again, client(mosquitto) as other:
        await again.subscribe("gate/s1/gw-01/+/command", qos=1)
        await other.publish("gate/s1/gw-01/L01/command", b"after restart", qos=1)
        assert (await next_message(again)).payload == b"after restart"


async def test_stop_saves_a_persistent_session_and_its_queue(mosquitto: Mosquitto) -> None:
    async with client(mosquitto, identifier="central") as central:
        await central.subscribe("gate/+/+/+/events", qos=1)
    async with client(mosquitto) as gateway:  # the central service is offline
        await gateway.publish("gate/s1/gw-01/L01/events", b"queued", qos=1)

    mosquitto.stop()  # SIGTERM: mosquitto writes mosquitto.db into its work directory
    assert (mosquitto.workdir / "mosquitto.db").exists()
    mosquitto.restart()

    async with client(mosquitto, identifier="central") as central:
        message = await next_message(central)
    assert (message.topic.value, message.payload) == ("gate/s1/gw-01/L01/events", b"queued")


def test_a_context_manager_stops_its_broker(tmp_path: Path) -> None:
    with Mosquitto(tmp_path) as broker:
        pid = broker.pid
        os.kill(pid, 0)
    with pytest.raises(ProcessLookupError):  # ended and reaped
        os.kill(pid, 0)


def test_a_broker_that_cannot_start_is_an_error(tmp_path: Path) -> None:
    broker = Mosquitto(tmp_path, extra_conf="no_such_option 1")
    with pytest.raises(RuntimeError, match="exited"):
        broker.start()
    assert not broker.running


def test_extra_conf_may_not_open_its_own_listener(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="listener"):
        Mosquitto(tmp_path, extra_conf="listener 8883")


def test_a_missing_mosquitto_is_an_error_not_a_skip(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(shutil, "which", lambda _name: None)
    monkeypatch.setattr(os, "access", lambda _path, _mode: False)
    with pytest.raises(RuntimeError, match="mosquitto not found"):
        Mosquitto(tmp_path).start()
