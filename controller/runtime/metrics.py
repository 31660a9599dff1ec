"""The optional Prometheus endpoint (`metrics:` in the config; docs/operations.md).

Theory of operation: what happens is counted as it happens (each device exchange's
latency, through `LaneRuntime.on_exchange`; vehicles, holds, faults and cycle times,
from the lane events every listener sees); what the lanes are is read when a scrape
arrives (state, device errors and data age from the freshness check, the journal's
backlog, the broker link, the cameras' counters). Scrapes are served by a small asyncio
HTTP server on the controller's own loop (docs/decisions/0007): the figures are read on
the loop that owns them, so no lock, no thread and no clock of its own;
prometheus-client formats them. Names follow the Prometheus conventions: one `gatebridge_` prefix,
seconds, `_total`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector

from controller.core.commands import PublishEvent
from controller.core.types import Device, LaneState
from controller.errors import ConfigError
from controller.runtime.lane import LaneRuntime

log = logging.getLogger(__name__)
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
CYCLE_BUCKETS = (10.0, 15.0, 20.0, 25.0, 30.0, 40.0, 50.0, 60.0, 90.0, 120.0, 300.0, 600.0)
REQUEST_TIMEOUT_S = 5.0
MAX_REQUEST_BYTES = 8192


class GatewayMetrics(Collector):
    def __init__(
        self,
        lanes: Iterable[LaneRuntime],
        backlog: Callable[[], Awaitable[int]] | None = None,
        mqtt_connected: Callable[[], bool] | None = None,
    ) -> None:
        self.lanes = {lane.setup.lane_id: lane for lane in lanes}
        self.backlog = backlog
        self.mqtt_connected = mqtt_connected
        self.registry = CollectorRegistry()
        self._latency = Histogram(
            "gatebridge_device_poll_latency_seconds",
            "Time one answered device exchange took.",
            ["lane", "device"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self._cycle = Histogram(
            "gatebridge_lane_cycle_seconds",
            "Time from a vehicle's admission to its departure.",
            ["lane"],
            buckets=CYCLE_BUCKETS,
            registry=self.registry,
        )
        self._vehicles = self._counter("vehicles", "Vehicle transactions committed.")
        self._holds = self._counter("holds", "Times a lane went to HOLD.")
        self._faults = self._counter("faults", "Times a lane went to FAULT.")
        self._admitted: dict[str, tuple[object, float]] = {}
        self._backlog_now: int | None = None
        self.registry.register(self)
        for lane in self.lanes.values():
            lane.on_exchange = self._latency_sink(lane.setup.lane_id)
            lane.listeners.append(self._on_event)

    def _counter(self, name: str, text: str) -> Counter:
        return Counter(f"gatebridge_{name}_total", text, ["lane"], registry=self.registry)

    # ------------------------------------------------------------------ as it happens
    def _latency_sink(self, lane: str) -> Callable[[Device, float], None]:
        children = {d: self._latency.labels(lane, d.value) for d in Device}
        return lambda device, seconds: children[device].observe(seconds)

    def _on_event(self, lane: str, event: PublishEvent) -> None:
        data = event.data
        if event.type == "transaction_committed":
            self._vehicles.labels(lane).inc()
        elif event.type == "state_changed" and data.get("state") == LaneState.HOLD.value:
            self._holds.labels(lane).inc()
        elif event.type == "state_changed" and data.get("state") == LaneState.FAULT.value:
            self._faults.labels(lane).inc()
        elif event.type == "vehicle_admitted":
            self._admitted[lane] = (data.get("transaction_id"), self.lanes[lane].now())
        elif event.type == "vehicle_departed":
            admitted = self._admitted.pop(lane, None)
            if admitted is not None and admitted[0] == data.get("transaction_id"):
                self._cycle.labels(lane).observe(self.lanes[lane].now() - admitted[1])

    # ------------------------------------------------------------------ at a scrape
    async def render(self, accept: str = "") -> tuple[bytes, str]:
        """The exposition in the format the scraper accepts, with its content type; the
        journal's backlog is asked for first (async)."""
        self._backlog_now = None
        if self.backlog is not None:
            try:
                self._backlog_now = await self.backlog()
            except Exception:  # a scrape must not fail because the journal is busy
                log.exception("metrics: journal backlog unavailable")
        encode, content_type = choose_encoder(accept)
        return encode(self.registry), content_type

    def collect(self) -> Iterator[Metric]:
        states = GaugeMetricFamily(
            "gatebridge_lane_state", "1 for the lane's current state.", labels=["lane", "state"]
        )
        errors = CounterMetricFamily(
            "gatebridge_device_errors", "Failed device exchanges.", labels=["lane", "device"]
        )
        age = GaugeMetricFamily(
            "gatebridge_device_data_age_seconds",
            "Age of the device's last good data.",
            labels=["lane", "device"],
        )
        for lane_id, lane in self.lanes.items():
            core = lane.core
            for state in LaneState:
                current = core is not None and core.state == state
                states.add_metric([lane_id, state.value], 1.0 if current else 0.0)
            for device, (count, seconds) in lane.freshness.figures(lane.now()).items():
                errors.add_metric([lane_id, device.value], count)
                if seconds is not None:
                    age.add_metric([lane_id, device.value], seconds)
        yield from (states, errors, age)
        yield from self._cameras()
        yield from self._links()

    def _cameras(self) -> Iterator[Metric]:
        """The cameras' counters, read from their drivers and loops (camera.py): reads by
        outcome, the listener's rejections by reason, snapshots not stored."""
        reads = CounterMetricFamily(
            "gatebridge_camera_reads",
            "Plate reads a camera pushed, by outcome (accepted, duplicate, dropped).",
            labels=["lane", "camera", "outcome"],
        )
        rejected = CounterMetricFamily(
            "gatebridge_camera_rejected",
            "Requests the lane's camera listener refused, by reason.",
            labels=["lane", "reason"],
        )
        failures = CounterMetricFamily(
            "gatebridge_snapshot_write_failures",
            "Camera snapshots that could not be stored (their reads were used anyway).",
            labels=["lane", "camera"],
        )
        for lane_id, lane in self.lanes.items():
            reasons: dict[str, int] = {}
            for loop in lane.cameras.values():
                counters, camera = loop.driver.counters(), loop.driver.camera_id
                for outcome, count in (
                    ("accepted", counters.accepted),
                    ("duplicate", counters.duplicates),
                    ("dropped", counters.dropped),
                ):
                    reads.add_metric([lane_id, camera, outcome], count)
                failures.add_metric([lane_id, camera], loop.snapshot_failures)
                reasons |= counters.rejected  # one listener per lane: the same figures
            for reason, count in sorted(reasons.items()):
                rejected.add_metric([lane_id, reason], count)
        yield from (reads, rejected, failures)

    def _links(self) -> Iterator[Metric]:
        if self._backlog_now is not None:
            yield GaugeMetricFamily(
                "gatebridge_journal_backlog_records",
                "Journaled events and transactions not yet delivered to the broker.",
                value=self._backlog_now,
            )
        if self.mqtt_connected is not None:
            yield GaugeMetricFamily(
                "gatebridge_mqtt_connected",
                "1 while the broker connection is up.",
                value=1.0 if self.mqtt_connected() else 0.0,
            )

    # ------------------------------------------------------------------ HTTP
    async def bound(self, host: str, port: int) -> Callable[[], Coroutine[object, object, None]]:
        """Bind host:port now (a taken port is a clear error at start, not a crash
        later) and return the service that serves GET /metrics until cancelled."""
        try:
            server = await asyncio.start_server(self._handle, host, port)
        except OSError as error:
            raise ConfigError("metrics.listen", f"{host}:{port}: {error.strerror}") from None
        log.info("metrics on http://%s:%d/metrics", host, port)

        async def serve() -> None:
            async with server:
                await server.serve_forever()

        return serve

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(REQUEST_TIMEOUT_S):
                head = await reader.readuntil(b"\r\n\r\n")
            status, body, kind = await self._answer(head)
        except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            status, body, kind = "400 Bad Request", b"bad request\n", "text/plain"
        with contextlib.suppress(ConnectionError):
            writer.write(_response(status, body, kind))
            await writer.drain()
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()

    async def _answer(self, head: bytes) -> tuple[str, bytes, str]:
        if len(head) > MAX_REQUEST_BYTES:
            return "400 Bad Request", b"request too large\n", "text/plain"
        request, *headers = head.decode("latin-1").split("\r\n")
        method, _, rest = request.partition(" ")
        path = rest.partition(" ")[0].partition("?")[0]
        if method != "GET":
            return "405 Method Not Allowed", b"GET /metrics\n", "text/plain"
        if path != "/metrics":
            return "404 Not Found", b"see /metrics\n", "text/plain"
        fields = (h.partition(":") for h in headers)
        accept = next((v.strip() for k, _, v in fields if k.strip().lower() == "accept"), "")
        body, content_type = await self.render(accept)
        return "200 OK", body, content_type


def _response(status: str, body: bytes, kind: str) -> bytes:
    head = (
        f"HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    )
    return head.encode("latin-1") + body
