"""ANPR camera events through the gateway's listener (issue 15 part 5).

    python -m bench.camera [--quick] [--events N] [--cameras K [K ...]]

For each camera count K (default 1, then 16: 8 lanes x 2 sides): a CameraListener on a
free 127.0.0.1 port with K cameras (Bearer secrets), a CameraDriver per camera draining
its reads as the lane runtime will, and one EventPoster per camera (its own kept-alive
connection, all K concurrently) POSTing N events each, made by codec.encode_event with
snapshots pre-rendered by emulators.camera.snapshot (so the sender's cost is not the JPEG
encoder). Measured: events/s from the first POST to the last read out of a driver, and
latency p50/p99 from an event's POST to its dequeue. Every event must arrive exactly
once (no loss, no duplicate, no drop, no rejection), or the run fails. The decode-only
rate (codec.decode_event on the same bodies, in process) is taken in the same run, before
and after the network runs, as the reference of the ratio. Senders, listener and drivers
share one process and one event loop, so the rate is a lower bound of what the listener
alone takes. Prints a table and writes bench/results/camera.json.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import secrets
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta

from bench.common import report
from devices.camera.codec import PlateRead, decode_event, encode_event
from devices.camera.driver import CameraDriver
from devices.camera.listener import CameraAuth, CameraListener, ListenerSettings
from emulators.camera.interface import EventPoster
from emulators.camera.snapshot import render_plate

PLATES = ("29C12345", "51D67890", "30A11223", "15B44556", "92H78901", "43E20202")
EPOCH = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)
READ_TIMEOUT_S = 10.0  # a driver waiting longer than this for its next read: one was lost

Body = tuple[str, bytes]  # (event_id, the POST body)


@dataclass(frozen=True, slots=True)
class CameraRun:
    cameras: int
    events_per_camera: int
    sent: int
    received: int
    events_per_s: float
    latency_p50_ms: float
    latency_p99_ms: float
    cpu_us_per_event: float  # senders, listener and drivers together (one process)


def camera_ids(count: int) -> list[str]:
    """Lanes' cameras in order, entry then exit: L01-entry, L01-exit, L02-entry, ..."""
    return [f"L{1 + i // 2:02d}-{('entry', 'exit')[i % 2]}" for i in range(count)]


def make_bodies(camera_id: str, events: int, snapshots: Sequence[bytes]) -> list[Body]:
    bodies = []
    for n in range(events):
        read = PlateRead(
            camera=camera_id,
            event_id=f"{camera_id}-{n + 1:06d}",
            plate=PLATES[n % len(PLATES)],
            country="VN",
            confidence=0.9 + (n % 9) / 100,
            timestamp=EPOCH + timedelta(seconds=0.25 * n),
            snapshot_jpeg=snapshots[n % len(snapshots)],
        )
        bodies.append((read.event_id, encode_event(read)))
    return bodies


def check(condition: bool, message: str) -> None:
    """A failed count ends the run (not an assert, so `python -O` does not skip it)."""
    if not condition:
        raise AssertionError(f"bench.camera: {message}")


def percentile_ms(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of seconds, in milliseconds."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)] * 1000


def decode_rate(bodies: Sequence[Body]) -> float:
    start = time.perf_counter()
    for _, body in bodies:
        decode_event("bench", body)
    return len(bodies) / (time.perf_counter() - start)


async def send(poster: EventPoster, bodies: Sequence[Body], sent: dict[str, float]) -> None:
    try:
        for event_id, body in bodies:
            sent[event_id] = time.perf_counter()
            status, answer = await poster.post(body)
            check(status == 200, f"{event_id} answered {status} {answer}")
    finally:
        await poster.close()


async def drain(driver: CameraDriver, count: int, received: dict[str, float]) -> None:
    for _ in range(count):
        read = await driver.next_read(READ_TIMEOUT_S)  # DeviceTimeout: an event was lost
        check(read.event_id not in received, f"{read.event_id} read twice")
        received[read.event_id] = time.perf_counter()


async def run_cameras(bodies: dict[str, list[Body]]) -> CameraRun:
    keys = {camera_id: secrets.token_urlsafe(24).encode() for camera_id in bodies}
    cameras = tuple(CameraAuth(camera_id, secret=key) for camera_id, key in keys.items())
    settings = ListenerSettings("127.0.0.1", 0, cameras, max_connections=max(32, len(cameras)))
    sent: dict[str, float] = {}
    received: dict[str, float] = {}
    async with CameraListener(settings) as listener:
        drivers = {camera_id: CameraDriver(listener, camera_id) for camera_id in bodies}
        url = f"http://127.0.0.1:{listener.port}{settings.path}"
        cpu = time.process_time()
        async with asyncio.TaskGroup() as tasks:
            for camera_id, mine in bodies.items():
                tasks.create_task(drain(drivers[camera_id], len(mine), received))
                tasks.create_task(send(EventPoster(url, keys[camera_id]), mine, sent))
        cpu = time.process_time() - cpu
        verify(listener, drivers, bodies, received)
    return summary(bodies, sent, received, cpu)


def verify(
    listener: CameraListener,
    drivers: dict[str, CameraDriver],
    bodies: dict[str, list[Body]],
    received: dict[str, float],
) -> None:
    """Exactly once: each event read once, none dropped, refused, duplicated or left over."""
    check(not listener.rejected, f"listener rejected {dict(listener.rejected)}")
    for camera_id, driver in drivers.items():
        counters, ids = driver.counters(), {event_id for event_id, _ in bodies[camera_id]}
        check(counters.accepted == len(ids), f"{camera_id}: accepted {counters.accepted}")
        check(counters.dropped == 0, f"{camera_id}: {counters.dropped} dropped by the queue")
        check(counters.duplicates == 0, f"{camera_id}: {counters.duplicates} duplicates")
        check(len(listener.queues[camera_id]) == 0, f"{camera_id}: reads left in the queue")
        check(ids <= received.keys(), f"{camera_id}: {len(ids - received.keys())} missing")
    check(len(received) == sum(map(len, bodies.values())), "reads of events never sent")


def summary(
    bodies: dict[str, list[Body]], sent: dict[str, float], received: dict[str, float], cpu: float
) -> CameraRun:
    latencies = [received[event_id] - at for event_id, at in sent.items()]
    elapsed = max(received.values()) - min(sent.values())
    return CameraRun(
        cameras=len(bodies),
        events_per_camera=len(next(iter(bodies.values()))),
        sent=len(sent),
        received=len(received),
        events_per_s=len(received) / elapsed,
        latency_p50_ms=percentile_ms(latencies, 0.50),
        latency_p99_ms=percentile_ms(latencies, 0.99),
        cpu_us_per_event=cpu / len(received) * 1e6,
    )


def rows_for(run: CameraRun, decode: float) -> list[tuple[str, object, str]]:
    name = f"{run.cameras} camera{'s' if run.cameras > 1 else ''}"
    return [
        (f"{name}: events received / sent", f"{run.received}/{run.sent}", "exactly once"),
        (f"{name}: events/s end to end", run.events_per_s, "report"),
        (f"{name}: ratio to decode only (%)", 100 * run.events_per_s / decode, "report"),
        (f"{name}: latency p50 (us)", 1000 * run.latency_p50_ms, "report"),
        (f"{name}: latency p99 (us)", 1000 * run.latency_p99_ms, "report"),
        (f"{name}: CPU per event, whole process (us)", run.cpu_us_per_event, "report"),
    ]


def bench(events: int, counts: Sequence[int]) -> None:
    snapshots = [render_plate(plate) for plate in PLATES]
    sample = make_bodies("L01-entry", events, snapshots)
    before = decode_rate(sample)
    runs = []
    for count in counts:
        bodies = {
            camera_id: make_bodies(camera_id, events, snapshots) for camera_id in camera_ids(count)
        }
        runs.append(asyncio.run(run_cameras(bodies)))
    decode = (before + decode_rate(sample)) / 2  # before and after: drift hurts both alike
    body_bytes = sum(len(body) for _, body in sample) / len(sample)
    rows: list[tuple[str, object, str]] = [
        ("event body (bytes, mean)", round(body_bytes), "report"),
        ("snapshot JPEG (bytes, mean)", round(sum(map(len, snapshots)) / len(snapshots)), ""),
        ("decode only, in process (events/s)", decode, "report"),
    ]
    for run in runs:
        rows += rows_for(run, decode)
    extra: dict[str, object] = {
        "args": {"events": events, "cameras": list(counts)},
        "body_bytes": body_bytes,
        "decode_per_s": decode,
        "runs": [asdict(run) for run in runs],
    }
    report("camera", rows, extra)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5000, help="events per camera")
    parser.add_argument("--cameras", type=int, nargs="+", default=[1, 16], help="camera counts")
    parser.add_argument("--quick", action="store_true", help="a smoke run (50 events each)")
    args = parser.parse_args(argv)
    if args.quick:
        args.events = 50
    if args.events < 1 or min(args.cameras) < 1:
        parser.error("--events and --cameras: at least 1")
    bench(args.events, args.cameras)


if __name__ == "__main__":
    main()
