"""The device loops of one lane: poll, report changes to the core, execute commands.

Theory of operation: each device has one task. It polls at absolute deadlines (so sleep
overshoot does not drift the period), executes pending commands as soon as they arrive
(a `Wakeup` wakes it between polls, which keeps reaction time near one poll
period), and reports to the lane only what changed. Every good exchange refreshes the
device's freshness; failures are counted and left to the freshness check (S7), never
raised out of the task: a device that misbehaves degrades its lane, it does not crash it.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections import deque

from controller.core.commands import DisableAutoClose
from controller.core.events import BarrierReported, InputsChanged, TagsRead, WeightReported
from controller.core.types import BARRIER_DEVICE, Aspect, BarrierState, Device, Motion, Side
from controller.errors import DeviceError, DeviceRefused
from controller.runtime.ports import LaneHost
from controller.runtime.setup import BarrierStatusLike

DEVICE_FAULT_FLAGS = 0b1100  # a barrier's motor fault and limit-switch fault bits
WATCHDOG_TRIPPED = 4  # the I/O module answers exception 04 to coil writes while tripped
READBACK_EVERY = 10  # read the outputs back after every write, and every N cycles anyway


async def _until(deadline: float) -> None:
    loop = asyncio.get_running_loop()
    await asyncio.sleep(max(0.0, deadline - loop.time()))


class Wakeup:
    """A flag a device loop sleeps on until its next poll deadline or until set.

    An asyncio.Event under asyncio.timeout_at would do, at the price of a timeout scope
    per wait; the poll loops wait 20-40 times a second per lane, so this costs one future
    and one timer handle per wait instead. Setting it when nobody waits leaves it set:
    the next wait returns at once (a command that arrives mid-poll is not missed)."""

    def __init__(self) -> None:
        self._set = False
        self._waiter: asyncio.Future[None] | None = None

    def set(self) -> None:
        self._set = True
        _release(self._waiter)

    def clear(self) -> None:
        self._set = False

    async def wait_until(self, deadline: float) -> None:
        if self._set:
            return
        loop = asyncio.get_running_loop()
        self._waiter = waiter = loop.create_future()
        handle = loop.call_at(deadline, _release, waiter)
        try:
            await waiter
        finally:
            handle.cancel()
            self._waiter = None


def _release(waiter: asyncio.Future[None] | None) -> None:
    if waiter is not None and not waiter.done():
        waiter.set_result(None)


class IoLoop:
    """The I/O module: inputs in, the whole output image out as one write."""

    def __init__(self, lane: LaneHost) -> None:
        self.lane = lane
        self.setup = lane.setup
        self.wanted: tuple[bool, ...] | None = None
        self.written: tuple[bool, ...] | None = None
        self.inputs: dict[str, bool] = {}
        self.wake = Wakeup()
        self.mismatch_since: float | None = None
        self.safe_due: float | None = None  # S7: the pending image must be on the wire by

    def expect_safe_by(self, due: float) -> None:
        """A device just went stale: the image the core asked for in answer (its red
        lights) must be confirmed by `due`. Nothing pending means it already is."""
        if self.wanted is not None and self.wanted != self.written:
            self.safe_due = due if self.safe_due is None else min(self.safe_due, due)

    def set_lights(self, entry: Aspect, exit_: Aspect, reposition: bool, reverse: bool) -> None:
        out = self.setup.wiring.outputs
        bits = [False] * self.setup.wiring.channels
        bits[out["entry_red" if entry == Aspect.RED else "entry_green"]] = True
        bits[out["exit_red" if exit_ == Aspect.RED else "exit_green"]] = True
        for name, on in (("sign_reposition", reposition), ("sign_reverse", reverse)):
            if name in out:
                bits[out[name]] = on
        self.wanted = tuple(bits)
        self.wake.set()

    async def run(self) -> None:
        setup, loop = self.setup, asyncio.get_running_loop()
        await self._boot()
        deadline = loop.time()
        try:
            for cycle in itertools.count():
                attempted = self.wanted is not None and self.wanted != self.written
                wrote = await self._write_outputs()
                if wrote or cycle % READBACK_EVERY == 0:
                    await self._check_outputs()
                await self._read_inputs()
                deadline = max(deadline + setup.io_poll_s, loop.time() - setup.io_poll_s)
                if attempted and not wrote:
                    await _until(deadline)  # a failed write is retried next period, not spun
                    continue
                self.wake.clear()
                if self.wanted == self.written:
                    await self.wake.wait_until(deadline)
        finally:
            await self._all_red()

    async def _boot(self) -> None:
        """S9: read the module before anything else, then arm its watchdog (reds on)."""
        setup = self.setup
        while True:
            try:
                await self._read_inputs()
                await setup.io.arm_watchdog(setup.watchdog_ms, setup.wiring.safe_pattern())
                return
            except DeviceError as error:
                self.lane.device_failed(Device.IO, str(error))
                await asyncio.sleep(setup.io_poll_s)

    async def _read_inputs(self) -> None:
        bits = await self.lane.exchange(Device.IO, self.setup.io.read_inputs())
        if bits is None:
            return
        named = {s: bits[c] for s, c in self.setup.wiring.inputs.items() if c < len(bits)}
        changed = {s: v for s, v in named.items() if self.inputs.get(s) != v}
        self.inputs.update(named)
        if changed or not self.lane.io_reported:
            self.lane.io_reported = True
            self.lane.feed(InputsChanged(self.lane.now(), changed if changed else named))

    async def _check_outputs(self) -> None:
        """S8 field check: the module must show the image we wrote. A watchdog trip (a
        stalled loop or a lost link) put its safe pattern on: re-arm and write again; any
        other difference that outlives field_check_ms is a fault."""
        if self.written is None:
            return
        shown = await self.lane.exchange(Device.IO, self.setup.io.read_outputs())
        if shown is None or shown == self.written:
            self.mismatch_since = None
            return
        now = self.lane.now()
        if self.mismatch_since is None:
            self.mismatch_since = now
            await self.lane.exchange(Device.IO, self.setup.io.reset_watchdog())
            self.written = None  # rewrite the whole image on the next cycle
            self.wake.set()
        elif now - self.mismatch_since > self.lane.setup.params.field_check_s:
            self.lane.output_mismatch(shown, self.wanted)

    async def _write_outputs(self) -> bool:
        wanted = self.wanted
        if wanted is None or wanted == self.written:
            return False
        try:
            await self.setup.io.write_outputs(wanted)
            self.written = wanted
            if self.safe_due is not None:
                self.lane.safe_reaction(self.lane.now() - self.safe_due)
                self.safe_due = None
            self.lane.note_booted()
            return True
        except DeviceRefused as error:
            self.lane.device_failed(Device.IO, str(error))
            if error.code == WATCHDOG_TRIPPED:
                await self.lane.exchange(Device.IO, self.setup.io.reset_watchdog())
        except DeviceError as error:
            self.lane.device_failed(Device.IO, str(error))
        return False

    async def _all_red(self) -> None:
        """On stop: leave every light red (best effort, bounded)."""
        pattern = self.setup.wiring.safe_pattern()
        bits = [bool(pattern >> c & 1) for c in range(self.setup.wiring.channels)]
        with contextlib.suppress(DeviceError, TimeoutError):
            async with asyncio.timeout(1.0):
                await asyncio.shield(self.setup.io.write_outputs(bits))


class BarrierLoop:
    def __init__(self, lane: LaneHost, side: Side) -> None:
        self.lane, self.side = lane, side
        self.port = lane.setup.barriers[side]
        self.device = BARRIER_DEVICE[side]
        self.pending: deque[Motion | DisableAutoClose] = deque()
        self.wake = Wakeup()
        self.last: BarrierReported | None = None

    def command(self, motion: Motion | DisableAutoClose) -> None:
        self.pending.append(motion)
        self.wake.set()

    async def run(self) -> None:
        loop, period = asyncio.get_running_loop(), self.lane.setup.barrier_poll_s[self.side]
        deadline = loop.time()
        while True:
            while self.pending:
                await self._execute(self.pending.popleft())
            await self._poll()
            deadline = max(deadline + period, loop.time() - period)
            self.wake.clear()
            if not self.pending:
                await self.wake.wait_until(deadline)

    async def _execute(self, what: Motion | DisableAutoClose) -> None:
        port = self.port
        actions = {
            Motion.OPEN: port.open,
            Motion.CLOSE: port.close,
            Motion.STOP: port.stop,
            Motion.RESET: port.reset,
        }
        call = actions[what]() if isinstance(what, Motion) else port.set_auto_close(False)
        await self.lane.exchange(self.device, call)

    async def _poll(self) -> None:
        status = await self.lane.exchange(self.device, self.port.read_status())
        if status is None:
            return
        report = barrier_report(self.lane.now(), self.side, status)
        previous = self.last
        self.last = report
        if previous is None or _differs(previous, report):
            self.lane.feed(report)


def barrier_report(now: float, side: Side, status: BarrierStatusLike) -> BarrierReported:
    return BarrierReported(
        now,
        side,
        BarrierState(int(status.state)),
        status.position,
        presence=status.presence,
        auto_close=status.auto_close,
        device_fault=bool(status.flags & DEVICE_FAULT_FLAGS),
    )


def _differs(a: BarrierReported, b: BarrierReported) -> bool:
    return (a.state, a.position, a.presence, a.auto_close, a.device_fault) != (
        b.state,
        b.position,
        b.presence,
        b.auto_close,
        b.device_fault,
    )


class ScaleLoop:
    def __init__(self, lane: LaneHost) -> None:
        self.lane = lane
        self.zero_requested = False

    def zero(self) -> None:
        self.zero_requested = True

    async def run(self) -> None:
        setup, loop = self.lane.setup, asyncio.get_running_loop()
        scale, timeout, period = setup.scale, setup.device_timeout_s, setup.scale_request_s
        deadline = loop.time()
        while True:
            if self.zero_requested:
                self.zero_requested = False
                await self.lane.exchange(Device.SCALE, scale.zero())
            if period:  # an SMA indicator answers requests: ask at the configured period
                deadline = max(deadline + period, loop.time() - period)
            reading = await self.lane.exchange(Device.SCALE, scale.read_reading(timeout))
            if reading is None:
                await asyncio.sleep(timeout / 4)  # a broken link fails fast: do not spin
                continue
            self.lane.feed(
                WeightReported(
                    self.lane.now(),
                    reading.weight_kg,
                    motion=reading.motion,
                    out_of_range=reading.out_of_range,
                    raw=reading.raw,
                )
            )
            if period:
                await _until(deadline)


class RfidLoop:
    """Inventory at poll_ms; sightings reach the core only while it asked for them.

    The debounce lives here: the same tag again within debounce_s is one sighting, and
    waking inventory starts a fresh window (a truck read before it reached the stop line
    is read again once it is there)."""

    def __init__(self, lane: LaneHost) -> None:
        self.lane = lane
        self.active = False
        self.seen: dict[str, float] = {}

    def set_active(self, active: bool) -> None:
        self.active = active
        self.seen.clear()

    async def run(self) -> None:
        loop, period = asyncio.get_running_loop(), self.lane.setup.rfid_poll_s
        deadline = loop.time()
        while True:
            epcs = await self.lane.exchange(Device.RFID, self.lane.setup.rfid.inventory())
            if epcs and self.active:
                self._sighted(epcs)
            deadline = max(deadline + period, loop.time() - period)
            await _until(deadline)

    def _sighted(self, epcs: tuple[bytes, ...]) -> None:
        now, window = self.lane.now(), self.lane.setup.rfid_debounce_s
        fresh = []
        for epc in {e.hex().upper() for e in epcs}:
            last = self.seen.get(epc)
            self.seen[epc] = now
            if last is None or now - last > window:
                fresh.append(epc)
        if fresh:
            self.lane.feed(TagsRead(now, tuple(sorted(fresh))))
