"""ANPR camera events through the gateway's listener (issue 15 part 5).

    python -m bench.camera [--quick] [--events N] [--cameras K [K ...]]
                           [--senders loop|process|both]

For each camera count K (default 1, then 16: 8 lanes x 2 sides): a CameraListener on a
free 127.0.0.1 port with K cameras (Bearer secrets), a CameraDriver per camera draining
its reads as the lane runtime will, and one EventPoster per camera (its own kept-alive
connection, all K concurrently) POSTing N events each, made by codec.encode_event with
snapshots pre-rendered by emulators.camera.snapshot (so the sender's cost is not the JPEG
encoder). Measured: events/s from the first POST to the last read out of a driver, and
latency p50/p99 from an event's POST to its dequeue. Every event must arrive exactly
once (no loss, no duplicate, no drop, no rejection), or the run fails. The decode-only
rate (codec.decode_event on the same bodies, in process) is taken in the same run, before
and after the network runs, as the reference of the ratio.

Each count runs twice (`--senders both`): the senders in the listener's own event loop
(their cost is in the figures: a lower bound of what the listener alone takes), then in
a spawned child process (this process's CPU per event is then the listener's and the
drivers' alone; every event pays a wake-up of each process, which a loaded or virtual
machine makes slow). Prints a table and writes bench/results/camera.json.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import multiprocessing
import secrets
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection

from bench.common import report
from devices.camera.codec import PlateRead, decode_event, encode_event
from devices.camera.driver import CameraDriver
from devices.camera.listener import CameraAuth, CameraListener, ListenerSettings
from emulators.camera.interface import EventPoster
from emulators.camera.snapshot import render_plate

PLATES = ("29C12345", "51D67890", "30A11223", "15B44556", "92H78901", "43E20202")
EPOCH = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)
READ_TIMEOUT_S = 30.0  # a driver waiting longer for its next read (a child spawning): one was lost

Body = tuple[str, bytes]  # (event_id, the POST body)
Keys = dict[str, bytes]  # camera id -> its Bearer secret
Sent = tuple[dict[str, float], float | None]  # POST times by id; a sender process's CPU s


@dataclass(frozen=True, slots=True)
class CameraRun:
    cameras: int
    senders: str  # "same loop" as the listener, or another "process"
    events_per_camera: int
    sent: int
    received: int
    events_per_s: float
    latency_p50_ms: float
    latency_p99_ms: float
    cpu_us_per_event: float  # this process's: with the senders in the same loop, theirs too
    sender_cpu_us_per_event: float | None  # the sender process's, when they have their own


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


def all_bodies(ids: Sequence[str], events: int) -> dict[str, list[Body]]:
    snapshots = [render_plate(plate) for plate in PLATES]  # a few, drawn once
    return {camera_id: make_bodies(camera_id, events, snapshots) for camera_id in ids}


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


async def send_all(url: str, keys: Keys, bodies: dict[str, list[Body]]) -> dict[str, float]:
    """Each camera's events on its own connection, all cameras at once; POST times by id."""
    sent: dict[str, float] = {}
    async with asyncio.TaskGroup() as tasks:
        for camera_id, mine in bodies.items():
            tasks.create_task(send(EventPoster(url, keys[camera_id]), mine, sent))
    return sent


async def send_here(url: str, keys: Keys, bodies: dict[str, list[Body]]) -> Sent:
    return await send_all(url, keys, bodies), None  # their CPU is in this process's


def sender_process(url: str, keys: Keys, events: int, out: Connection) -> None:
    """The cameras in a spawned child: they make the same bodies, POST them, and send back
    their POST times (perf_counter is CLOCK_MONOTONIC, one clock for both processes)."""
    bodies = all_bodies(list(keys), events)
    cpu = time.process_time()
    sent = asyncio.run(send_all(url, keys, bodies))
    out.send((sent, time.process_time() - cpu))
    out.close()


async def send_from_child(url: str, keys: Keys, events: int) -> Sent:
    context = multiprocessing.get_context("spawn")  # no fork of a process running a loop
    ours, theirs = context.Pipe(duplex=False)
    child = context.Process(target=sender_process, args=(url, keys, events, theirs))
    child.start()
    theirs.close()
    try:
        sent: Sent = await asyncio.to_thread(ours.recv)  # EOFError: it died
    finally:
        await asyncio.to_thread(child.join, 30)
    check(child.exitcode == 0, f"the sender process ended with {child.exitcode}")
    return sent


async def run_cameras(bodies: dict[str, list[Body]], *, child: bool) -> CameraRun:
    """One run; `child`: the senders in another process, else in this loop."""
    keys = {camera_id: secrets.token_urlsafe(24).encode() for camera_id in bodies}
    cameras = tuple(CameraAuth(camera_id, secret=key) for camera_id, key in keys.items())
    settings = ListenerSettings("127.0.0.1", 0, cameras, max_connections=max(32, len(cameras)))
    received: dict[str, float] = {}
    events = len(next(iter(bodies.values())))
    async with CameraListener(settings) as listener:
        drivers = {camera_id: CameraDriver(listener, camera_id) for camera_id in bodies}
        url = f"http://127.0.0.1:{listener.port}{settings.path}"
        cpu = time.process_time()
        async with asyncio.TaskGroup() as tasks:
            for camera_id, mine in bodies.items():
                tasks.create_task(drain(drivers[camera_id], len(mine), received))
            sending = send_from_child(url, keys, events) if child else send_here(url, keys, bodies)
            sent = tasks.create_task(sending)
        cpu = time.process_time() - cpu
        verify(listener, drivers, bodies, received)
    return summary(bodies, sent.result(), received, cpu, "process" if child else "same loop")


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
    bodies: dict[str, list[Body]],
    sending: Sent,
    received: dict[str, float],
    cpu: float,
    senders: str,
) -> CameraRun:
    sent, sender_cpu = sending
    latencies = [received[event_id] - at for event_id, at in sent.items()]
    elapsed = max(received.values()) - min(sent.values())
    return CameraRun(
        cameras=len(bodies),
        senders=senders,
        events_per_camera=len(next(iter(bodies.values()))),
        sent=len(sent),
        received=len(received),
        events_per_s=len(received) / elapsed,
        latency_p50_ms=percentile_ms(latencies, 0.50),
        latency_p99_ms=percentile_ms(latencies, 0.99),
        cpu_us_per_event=cpu / len(received) * 1e6,
        sender_cpu_us_per_event=None if sender_cpu is None else sender_cpu / len(sent) * 1e6,
    )


def rows_for(run: CameraRun, decode: float) -> list[tuple[str, object, str]]:
    name = f"{run.cameras} camera{'s' if run.cameras > 1 else ''} ({run.senders})"
    cpu = "this process" if run.senders == "process" else "whole process"
    rows: list[tuple[str, object, str]] = [
        (f"{name}: events received / sent", f"{run.received}/{run.sent}", "exactly once"),
        (f"{name}: events/s end to end", run.events_per_s, "report"),
        (f"{name}: ratio to decode only (%)", 100 * run.events_per_s / decode, "report"),
        (f"{name}: latency p50 (us)", 1000 * run.latency_p50_ms, "report"),
        (f"{name}: latency p99 (us)", 1000 * run.latency_p99_ms, "report"),
        (f"{name}: CPU per event, {cpu} (us)", run.cpu_us_per_event, "report"),
    ]
    if run.sender_cpu_us_per_event is not None:
        rows.append((f"{name}: CPU per event, senders (us)", run.sender_cpu_us_per_event, ""))
    return rows


def bench(events: int, counts: Sequence[int], modes: Sequence[bool]) -> None:
    """`modes`: for each, whether the senders run in a child process."""
    sample = all_bodies(["L01-entry"], events)["L01-entry"]
    before = decode_rate(sample)
    runs = []
    for count in counts:
        bodies = all_bodies(camera_ids(count), events)
        runs += [asyncio.run(run_cameras(bodies, child=child)) for child in modes]
    decode = (before + decode_rate(sample)) / 2  # before and after: drift hurts both alike
    body_bytes = sum(len(body) for _, body in sample) / len(sample)
    jpeg_bytes = sum(len(render_plate(plate)) for plate in PLATES) / len(PLATES)
    rows: list[tuple[str, object, str]] = [
        ("event body (bytes, mean)", round(body_bytes), "report"),
        ("snapshot JPEG (bytes, mean)", round(jpeg_bytes), ""),
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


SENDERS = {"loop": [False], "process": [True], "both": [False, True]}


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5000, help="events per camera")
    parser.add_argument("--cameras", type=int, nargs="+", default=[1, 16], help="camera counts")
    parser.add_argument(
        "--senders", choices=SENDERS, default="both", help="in the listener's loop, a process"
    )
    parser.add_argument("--quick", action="store_true", help="a smoke run (50 events each)")
    args = parser.parse_args(argv)
    if args.quick:
        args.events = 50
    if args.events < 1 or min(args.cameras) < 1:
        parser.error("--events and --cameras: at least 1")
    bench(args.events, args.cameras, SENDERS[args.senders])


if __name__ == "__main__":
    main()
