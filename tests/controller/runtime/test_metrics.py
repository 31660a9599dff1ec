"""The Prometheus figures of an emulated lane in virtual time: what the collector reports
after trucks crossed (vehicles, cycle times, poll latency, errors, data age, state), a
hold counted, and every name in the Prometheus conventions. Over HTTP against the real
controller: test_metrics_scrape.py."""

from __future__ import annotations

import asyncio
import re
import socket
from pathlib import Path

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from controller.config.load import validate
from controller.core.types import LaneState
from controller.errors import ConfigError
from controller.runtime.metrics import GatewayMetrics
from emulators.world import Behaviour
from tests.controller.runtime.harness import EmulatedLane
from tests.controller.runtime.test_lane_runtime import state, wait_for

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]
EXAMPLE = Path(__file__).resolve().parents[3] / "deploy/examples/emulated-lane.yaml"
NAME = re.compile(r"^gatebridge_[a-z0-9_]+$")


async def scraped(metrics: GatewayMetrics) -> Samples:
    body, content_type = await metrics.render()
    assert content_type.startswith("text/plain; version=0.0.4")
    text = body.decode()
    found: Samples = {}
    for family in text_string_to_metric_families(text):
        assert NAME.match(family.name), family.name
        assert not family.name.startswith("gatebridge_gatebridge")
        if family.type == "counter":
            assert all(s.name.endswith(("_total", "_created")) for s in family.samples)
        for sample in family.samples:
            found[sample.name, tuple(sorted(sample.labels.items()))] = sample.value
    return found


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.mark.looptime
async def test_a_lane_s_traffic_in_the_figures() -> None:
    lane = EmulatedLane()
    metrics = GatewayMetrics([lane.runtime])
    task = asyncio.create_task(lane.run())
    try:
        await wait_for(lambda: state(lane) == LaneState.IDLE, 10, lane)
        before = await scraped(metrics)
        for _ in range(2):
            lane.world.spawn(lane.world.make_truck())
        await wait_for(lambda: len(lane.world.departed) == 2, 300, lane)
        await wait_for(lambda: state(lane) == LaneState.IDLE, 60, lane)
        after = await scraped(metrics)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert value(before, "gatebridge_vehicles_total", lane="L01") == 0
    assert value(after, "gatebridge_vehicles_total", lane="L01") == 2
    assert value(after, "gatebridge_lane_cycle_seconds_count", lane="L01") == 2
    cycle = value(after, "gatebridge_lane_cycle_seconds_sum", lane="L01") / 2
    assert 5 < cycle < 120  # admission to departure of a truck on an 18 m deck
    assert value(after, "gatebridge_lane_state", lane="L01", state="idle") == 1
    assert value(after, "gatebridge_lane_state", lane="L01", state="fault") == 0
    for device in ("io", "entry_barrier", "exit_barrier", "scale", "rfid"):
        polls = {"lane": "L01", "device": device}
        count = "gatebridge_device_poll_latency_seconds_count"
        assert value(after, count, **polls) > value(before, count, **polls), device
        assert 0 <= value(after, "gatebridge_device_data_age_seconds", **polls) < 1.1, device
        assert value(after, "gatebridge_device_errors_total", **polls) == 0, device
    assert value(after, "gatebridge_faults_total", lane="L01") == 0
    assert ("gatebridge_mqtt_connected", ()) not in after  # standalone: no broker figures


@pytest.mark.looptime
async def test_holds_and_device_errors_are_counted() -> None:
    lane = EmulatedLane(seed=7)
    metrics = GatewayMetrics([lane.runtime], mqtt_connected=lambda: True)
    task = asyncio.create_task(lane.run())
    try:
        await wait_for(lambda: state(lane) == LaneState.IDLE, 10, lane)
        lane.world.spawn(lane.world.make_truck())
        lane.world.spawn(lane.world.make_truck(Behaviour.TAILGATE))
        await wait_for(lambda: state(lane) == LaneState.HOLD, 120, lane)
        lane.hub.modbus.pop("io")  # the I/O module stops answering
        await wait_for(lambda: state(lane) == LaneState.DEGRADED, 5, lane)
        samples = await scraped(metrics)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert value(samples, "gatebridge_holds_total", lane="L01") == 1
    assert value(samples, "gatebridge_device_errors_total", lane="L01", device="io") >= 1
    assert value(samples, "gatebridge_mqtt_connected") == 1


@pytest.mark.parametrize(
    ("listen", "error"),
    [
        ("0.0.0.0:9108", "metrics.listen: '0.0.0.0:9108': only a loopback address"),
        ("10.0.1.5:9108", "metrics.listen: '10.0.1.5:9108': only a loopback address"),
        ("localhost:9108", "metrics.listen: 'localhost:9108': give HOST:PORT with a loopback IP"),
        ("127.0.0.1", "metrics.listen: '127.0.0.1': give HOST:PORT"),
        ("127.0.0.1:0", "metrics.listen: '127.0.0.1:0': the port must be 1-65535"),
        ("127.0.0.1:70000", "the port must be 1-65535"),
    ],
)
def test_the_endpoint_listens_on_loopback_only(listen: str, error: str) -> None:
    document = yaml.safe_load(EXAMPLE.read_text())
    document["metrics"] = {"listen": listen}
    with pytest.raises(ConfigError) as caught:
        validate(document)
    assert error in str(caught.value)
    assert caught.value.path == "metrics.listen"


def test_metrics_are_off_unless_configured_and_default_to_port_9108() -> None:
    document = yaml.safe_load(EXAMPLE.read_text())
    assert validate(document).metrics is None
    document["metrics"] = {}
    metrics = validate(document).metrics
    assert metrics is not None
    assert (metrics.host, metrics.port) == ("127.0.0.1", 9108)
    document["metrics"] = {"listen": "[::1]:9200"}
    metrics = validate(document).metrics
    assert metrics is not None
    assert (metrics.host, metrics.port) == ("::1", 9200)


async def test_a_taken_port_is_a_clear_error_at_start() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ConfigError, match=rf"^metrics.listen: 127.0.0.1:{port}: "):
            await GatewayMetrics([]).bound("127.0.0.1", port)


async def test_the_journal_backlog_is_asked_at_each_scrape() -> None:
    pending = [7]

    async def backlog() -> int:
        if not pending:
            raise OSError("database is locked")
        return pending.pop()

    metrics = GatewayMetrics([], backlog=backlog, mqtt_connected=lambda: False)
    first = await scraped(metrics)
    assert value(first, "gatebridge_journal_backlog_records") == 7
    assert ("gatebridge_mqtt_connected", ()) in first
    assert value(first, "gatebridge_mqtt_connected") == 0
    second = await scraped(metrics)  # the journal cannot say: the series is left out
    assert ("gatebridge_journal_backlog_records", ()) not in second
    assert ("gatebridge_mqtt_connected", ()) in second
