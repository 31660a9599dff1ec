"""Scraping the real controller over HTTP: `gatectl emulate` serves a lane with trucks
queued, `gatectl run` drives it with `metrics: {listen: 127.0.0.1:PORT}`; scrapes while
trucks cross show the counters rising, names in the Prometheus conventions, and the
server answering anything else with a clear status. Real time, waits with timeouts."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import yaml
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.test_emulate_and_run import free_port, lane_config, process

Figures = dict[str, float]


async def get(port: int, request: bytes) -> tuple[str, str]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(request)
    await writer.drain()
    async with asyncio.timeout(10):
        answer = await reader.read()
    writer.close()
    head, _, body = answer.decode().partition("\r\n\r\n")
    return head, body


async def scrape(port: int) -> Figures:
    head, body = await get(port, b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    assert head.startswith("HTTP/1.1 200 OK"), head
    assert "Content-Type: text/plain; version=0.0.4" in head
    figures: Figures = {}
    for family in text_string_to_metric_families(body):
        assert family.name.startswith("gatebridge_"), family.name
        for sample in family.samples:
            labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
            figures[f"{sample.name}{{{labels}}}"] = sample.value
    return figures


async def departure(sock: Path) -> None:
    """Follow the controller's events on its maintenance socket until a vehicle left."""
    reader, writer = await asyncio.open_unix_connection(str(sock))
    writer.write(b'{"op": "events", "follow": true, "last": 0}\n')
    await writer.drain()
    async with asyncio.timeout(90):
        while json.loads(await reader.readline())["data"].get("type") != "vehicle_departed":
            pass
    writer.close()


async def test_scrape_while_trucks_cross(tmp_path: Path) -> None:
    port, metrics_port = free_port(), free_port()
    config = lane_config(tmp_path, port)
    document = yaml.safe_load(config.read_text())
    document["metrics"] = {"listen": f"127.0.0.1:{metrics_port}"}
    config.write_text(yaml.safe_dump(document))
    emulate = ["emulate", "--config", str(config), "--time-scale", "4", "--saturate", "1"]
    async with (
        process(*emulate, "--control", str(tmp_path / "em.sock"), ready="ready"),
        process("run", "--config", str(config), ready="running"),
    ):
        first = await scrape(metrics_port)  # bound before the socket that says `running`
        await departure(tmp_path / "gatectl.sock")
        later = await scrape(metrics_port)
        missing, _ = await get(metrics_port, b"GET /nothing HTTP/1.1\r\n\r\n")
        posted, _ = await get(metrics_port, b"POST /metrics HTTP/1.1\r\n\r\n")
        garbage, _ = await get(metrics_port, b"\x00\xff\r\n\r\n")
    polls = "gatebridge_device_poll_latency_seconds_count{device=io,lane=L01}"
    assert later[polls] > first[polls]
    assert later["gatebridge_vehicles_total{lane=L01}"] > first.get(
        "gatebridge_vehicles_total{lane=L01}", 0
    )
    assert 1 < later["gatebridge_lane_cycle_seconds_sum{lane=L01}"] < 90
    assert sum(v for k, v in later.items() if k.startswith("gatebridge_lane_state{")) == 1
    assert "gatebridge_device_errors_total{device=scale,lane=L01}" in later
    assert missing.startswith("HTTP/1.1 404")
    assert posted.startswith("HTTP/1.1 405")
    assert garbage.startswith("HTTP/1.1 405")
