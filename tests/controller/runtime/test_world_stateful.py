"""The full lane against its emulated world, driven by hypothesis in virtual time.

Theory of operation: one example is one lane as `gatectl simulate` builds it (the real
runtime, drivers and in-memory transports against the emulated devices and world, with
an officer on duty; simulate's own setup functions), in a looptime event loop of its
own. The rules play the outside world: trucks arrive with any behaviour (misbehaving
drivers, swapped and dead tags included), the entry camera's events come late, resent,
out of order, as garbage or as stray reads of plates nobody carries, wire faults are
injected into the emulators' fault books (silence, garbage, corrupted checksums, late
replies, for a while or with a probability), the clearing officer acts, and virtual time
passes by random amounts. After every step the world's oracle, which trusts only what
the devices physically did, must hold the controller blameless, no swapped tag may have
gone through unchecked, and the runtime must be alive and its own safety monitors quiet.
At teardown every driver-caused incident must have been detected: alarmed on the lane
around its time.

A real-time watchdog turns a livelock (virtual time that stops advancing while tasks
keep running) into a failure: SIGALRM stops the loop and the step raises
`WatchdogExpired`, a BaseException, so neither the code under test nor hypothesis's
shrinker swallows it (a livelocking example fails at once, with its steps, instead of
being shrunk for minutes).

The example count and step count follow the hypothesis profile (tests/conftest.py): `ci`
keeps this within about half a minute; `long` goes big.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Coroutine, Iterator
from contextlib import AsyncExitStack, contextmanager
from datetime import UTC, datetime
from types import FrameType
from typing import Any, TypeVar

import looptime
import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from controller.core.commands import PublishEvent
from controller.core.events import OperatorCommanded
from controller.core.types import LaneState, OperatorAction, Role
from devices.camera.codec import PlateRead, encode_event
from devices.transport.base import MemoryHub
from devices.transport.modbus import ModbusLinks
from emulators.camera.snapshot import render_plate
from emulators.faults import FaultKind, FaultSpec, Trigger
from emulators.world import Behaviour
from simulation.engine import SimLane, build_lane, detected_by_alarm, officer_on_duty

T = TypeVar("T")
CAMERA_GARBAGE = st.one_of(
    st.binary(max_size=64),
    st.sampled_from([b"", b"{}", b"[1]", b'{"camera": "L01-entry"}', b"\xff\xd8\xff"]),
)
STRAY_AT = datetime(2027, 1, 15, tzinfo=UTC)
STRAY_JPEG = render_plate("STRAY")
WATCHDOG_S = 20.0  # real seconds one step may take; a step is at most a few virtual minutes
DRAIN_S = 180.0  # virtual seconds at teardown for pending alarms (stopped-under-arm: 15 s)
BOOT_S = 5.0
WIRES = ("io", "rs485", "scale", "rfid")
WIRE_FAULTS = (FaultKind.NO_REPLY, FaultKind.GARBAGE, FaultKind.CORRUPT_CHECKSUM)
THEN = st.sampled_from([0.1, 0.5, 2.0, 5.0, 15.0, 30.0])  # virtual time after each action
DRIVERS = st.one_of(st.just(Behaviour.OBEY), st.sampled_from(Behaviour))  # half misbehave

_profile = settings()  # the loaded profile: ci (default) or long
EXAMPLES = max(3, _profile.max_examples // 20)  # ci: 10
STEPS = max(10, _profile.stateful_step_count // 2)  # ci: 30
VIRTUAL_S = max(600.0, 10.0 * _profile.stateful_step_count)  # per example; ci: 10 minutes


class WatchdogExpired(BaseException):
    """A step took longer than the watchdog allows in real time."""


@contextmanager
def watchdog(loop: asyncio.AbstractEventLoop, seconds: float, what: str) -> Iterator[list[str]]:
    """Arm SIGALRM for `seconds` of real time. On expiry it stops `loop` (which returns
    from run_until_complete at the end of its current iteration, its tasks intact); if a
    second later it is still inside one callback, it raises WatchdogExpired right there.
    What it yields is non-empty once it fired."""
    fired: list[str] = []

    def expire(_signum: int, _frame: FrameType | None) -> None:
        message = f"watchdog: {what} took more than {seconds:.0f}s of real time (livelock?)"
        if fired:  # stuck inside one callback: break out of it
            raise WatchdogExpired(message)
        fired.append(message)
        loop.stop()

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds, 1.0)
    try:
        yield fired
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def run_guarded(
    loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, T], what: str, seconds: float
) -> T:
    """`loop.run_until_complete(coro)`, failing with WatchdogExpired after `seconds` of
    real time."""
    with watchdog(loop, seconds, what) as fired:
        try:
            result = loop.run_until_complete(coro)
        except RuntimeError:  # "Event loop stopped before Future completed."
            if fired:
                raise WatchdogExpired(fired[0]) from None
            raise
    if fired:
        raise WatchdogExpired(fired[0])
    return result


def officer(action: OperatorAction, now: float) -> OperatorCommanded:
    return OperatorCommanded(now, action, "officer.test", Role.OFFICER, True, reason="test")


class WorldMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.loop = looptime.new_event_loop(start=0.0, noop_cycles=1)
        self.stack = AsyncExitStack()
        self.tasks: list[asyncio.Task[None]] = []
        self.lane: SimLane | None = None
        self.traffic: list[Behaviour] = []  # who comes next, one truck a second while the
        # queue is short (simulate's traffic, but drawn by hypothesis)
        self.steps: list[str] = []  # what was done, for the watchdog's report
        self.strays = 0
        self.settled = True  # False while a step runs: teardown only checks after clean steps
        self.expired = False

    # ------------------------------------------------------------------ plumbing
    def run(self, coro: Coroutine[Any, Any, T], what: str) -> T:
        self.steps.append(what)
        try:
            return run_guarded(self.loop, coro, what, WATCHDOG_S)
        except WatchdogExpired as error:
            self.expired = True
            raise WatchdogExpired(f"{error}; steps: {self.steps[-25:]}") from None

    @property
    def sim(self) -> SimLane:
        assert self.lane is not None
        return self.lane

    def now(self) -> float:
        return self.loop.time()

    async def _start(self, seed: int) -> None:
        lane = await build_lane(
            0, seed, MemoryHub(), ModbusLinks(), misbehave=0.0, stack=self.stack
        )
        self.lane = lane
        loop = asyncio.get_running_loop()
        assert lane.camera is not None
        self.tasks = [
            loop.create_task(lane.runtime.run(), name="runtime"),
            loop.create_task(officer_on_duty(lane), name="officer"),
            loop.create_task(self._traffic(), name="traffic"),
            loop.create_task(lane.camera.run(lane.runtime), name="camera"),
        ]
        await asyncio.sleep(BOOT_S)

    async def _traffic(self) -> None:
        world = self.sim.emulated.world
        while True:
            if self.traffic and world.queue_length < 2:
                self._spawn(self.traffic.pop(0))
            await asyncio.sleep(1.0)

    def _spawn(self, behaviour: Behaviour) -> None:
        world = self.sim.emulated.world
        truck = world.spawn(world.make_truck(behaviour))
        if behaviour == Behaviour.SWAPPED_TAG:  # the tally follows it (missed must stay 0)
            self.sim.identity.swapped_tags.add(truck.tag_hex)

    async def _stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        if self.lane is not None:
            self.lane.clearance.cancel_all()
        await self.stack.aclose()

    # ------------------------------------------------------------------ rules
    @initialize(seed=st.integers(0, 2**16), traffic=st.lists(DRIVERS, max_size=40))
    def boot(self, seed: int, traffic: list[Behaviour]) -> None:
        self.settled = False
        self.traffic = list(traffic)
        self.run(self._start(seed), f"boot(seed={seed}, traffic={[b.value for b in traffic]})")

    def then(self, dt: float) -> None:
        """Let `dt` of virtual time pass, within the example's budget of VIRTUAL_S."""
        dt = min(dt, max(0.0, VIRTUAL_S - self.now()))
        self.run(asyncio.sleep(dt), f"then {dt}s")

    @precondition(lambda self: self.sim.emulated.world.queue_length < 3)
    @rule(behaviour=DRIVERS, dt=THEN)
    def arrival(self, behaviour: Behaviour, dt: float) -> None:
        """A truck joins the queue now, besides the traffic."""
        self.settled = False
        self._spawn(behaviour)
        self.steps.append(f"arrival({behaviour.value})")
        self.then(dt)

    @rule(
        wire=st.sampled_from(WIRES),
        kind=st.sampled_from(WIRE_FAULTS),
        duration_s=st.sampled_from([0.3, 1.0, 3.0, 8.0, 20.0]),
        p=st.sampled_from([1.0, 1.0, 0.5, 0.1]),
        dt=THEN,
    )
    def wire_fault(
        self, wire: str, kind: FaultKind, duration_s: float, p: float, dt: float
    ) -> None:
        """Silence or spoiled frames (garbage, a corrupted checksum) for a while."""
        self.settled = False
        trigger = Trigger() if p == 1.0 else Trigger(mode="probability", p=p)
        self._inject(wire, FaultSpec(kind=kind, trigger=trigger, duration_s=duration_s))
        self.then(dt)

    @rule(
        wire=st.sampled_from(WIRES),
        delay_s=st.sampled_from([0.05, 0.3, 1.0, 3.0]),
        duration_s=st.sampled_from([1.0, 5.0, 20.0]),
        dt=THEN,
    )
    def late_replies(self, wire: str, delay_s: float, duration_s: float, dt: float) -> None:
        self.settled = False
        spec = FaultSpec(kind=FaultKind.LATE_REPLY, delay_s=delay_s, duration_s=duration_s)
        self._inject(wire, spec)
        self.then(dt)

    def _inject(self, wire: str, spec: FaultSpec) -> None:
        emulated = self.sim.emulated
        assert emulated.clock is not None
        emulated.wire[wire].inject(spec, emulated.clock.now())
        self.steps.append(f"fault({wire}, {spec.kind.value}, {spec.duration_s}s)")

    @rule(body=CAMERA_GARBAGE, dt=THEN)
    def camera_garbage(self, body: bytes, dt: float) -> None:
        """A body the listener refuses (400): it must change nothing."""
        self.settled = False
        camera = self.sim.camera
        assert camera is not None
        camera.injected.append(body)
        self.steps.append(f"camera_garbage({body[:20]!r})")
        self.then(dt)

    @rule(which=st.sampled_from([0, -1]), dt=THEN)
    def camera_resends(self, which: int, dt: float) -> None:
        """A camera resends an event it sent before (the same id), maybe long after."""
        self.settled = False
        camera = self.sim.camera
        assert camera is not None
        if camera.delivered:
            camera.injected.append(camera.delivered[which])
            self.steps.append(f"camera_resends({which})")
        self.then(dt)

    @rule(
        plate=st.sampled_from(["29C12345", "51D99999"]),
        confidence=st.sampled_from([0.5, 0.95]),
        dt=THEN,
    )
    def camera_stray_read(self, plate: str, confidence: float, dt: float) -> None:
        """A read of a plate no truck in the lane carries (a car passing, a misread)."""
        self.settled = False
        camera = self.sim.camera
        assert camera is not None
        self.strays += 1
        read = PlateRead(
            camera.camera_id, f"stray-{self.strays}", plate, "VN", confidence, STRAY_AT, STRAY_JPEG
        )
        camera.injected.append(encode_event(read))
        self.steps.append(f"camera_stray_read({plate}, {confidence})")
        self.then(dt)

    @rule(hold_s=st.sampled_from([1.0, 5.0, 30.0]), dt=THEN)
    def camera_link_congested(self, hold_s: float, dt: float) -> None:
        """Reads arrive `hold_s` late, and out of order."""
        self.settled = False
        camera = self.sim.camera
        assert camera is not None
        camera.held_until = self.now() + hold_s
        self.steps.append(f"camera_link_congested({hold_s}s)")
        self.then(dt)

    @rule(action=st.sampled_from([OperatorAction.RELEASE, OperatorAction.REJECT]), dt=THEN)
    def officer_decides(self, action: OperatorAction, dt: float) -> None:
        """An officer decides a held vehicle now (the one on duty does after a minute)."""
        self.settled = False
        core = self.sim.runtime.core
        if core is not None and core.state == LaneState.HOLD:
            self.sim.runtime.feed(officer(action, self.now()))
            self.steps.append(f"officer({action.value})")
        self.then(dt)

    @rule(dt=st.sampled_from([45.0, 90.0, 180.0]))
    def time_passes(self, dt: float) -> None:
        self.settled = False
        self.then(dt)

    # ------------------------------------------------------------------ invariants
    @invariant()
    def the_controller_is_blameless_and_alive(self) -> None:
        sim = self.sim
        caused = sim.emulated.world.oracle.by("controller")
        assert not caused, f"controller-caused incidents: {caused}; steps: {self.steps}"
        monitor = sim.runtime.alarms.get("monitor")
        assert monitor is None, f"the runtime's safety monitor tripped: {monitor}"
        missed = sim.identity.missed
        assert missed == 0, f"a swapped tag went through unchecked; steps: {self.steps}"
        for task in self.tasks:
            if task.done() and not task.cancelled() and task.exception() is not None:
                raise AssertionError(f"task {task.get_name()} died") from task.exception()
            assert not task.done(), f"task {task.get_name()} ended"
        self.settled = True

    # ------------------------------------------------------------------ teardown
    def teardown(self) -> None:
        try:
            if self.lane is not None and self.settled and not self.expired:
                self._every_driver_incident_detected()
        finally:
            if not self.expired:  # after a livelock, nothing more is run on this loop
                self.run(self._stop(), "stop")
                self.loop.run_until_complete(self.loop.shutdown_asyncgens())
            self.loop.close()

    def _every_driver_incident_detected(self) -> None:
        """Faults cleared, the officer on duty: give pending alarms their time."""
        sim = self.sim
        for book in sim.emulated.wire.values():
            book.clear()
        oracle = sim.emulated.world.oracle

        def undetected() -> list[object]:
            return [i for i in oracle.by("driver") if not detected_by_alarm(i, sim.alarms)]

        alarmed = asyncio.Event()

        def listen(_lane: str, event: PublishEvent) -> None:
            if event.type == "alarm":
                alarmed.set()

        sim.runtime.listeners.append(listen)

        async def drain() -> None:
            deadline = self.now() + DRAIN_S
            while undetected() and self.now() < deadline:
                alarmed.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(alarmed.wait(), deadline - self.now())

        self.run(drain(), "drain")
        assert not undetected(), f"driver incidents never alarmed: {undetected()}; {sim.alarms}"
        assert not oracle.by("controller"), f"controller-caused: {oracle.by('controller')}"


WorldMachine.TestCase.settings = settings(max_examples=EXAMPLES, stateful_step_count=STEPS)
TestWorldStateful = WorldMachine.TestCase


def test_the_watchdog_turns_a_livelock_into_a_failure() -> None:
    """Virtual time never advances while a task spins: the step must fail, not hang."""

    async def spin() -> None:
        while True:  # noqa: ASYNC110 - the livelock under test
            await asyncio.sleep(0)

    def busy() -> None:
        while True:
            pass

    loop = looptime.new_event_loop(start=0.0, noop_cycles=1)
    try:
        spinner = loop.create_task(spin())
        with pytest.raises(WatchdogExpired, match="livelock"):
            run_guarded(loop, asyncio.sleep(1.0), "a step", 0.3)
        spinner.cancel()
        loop.run_until_complete(asyncio.gather(spinner, return_exceptions=True))
        assert spinner.cancelled()  # the loop and its tasks survived the stop
        loop.call_soon(busy)  # stuck inside one callback: broken out of a second later
        with pytest.raises(WatchdogExpired, match="livelock"):
            run_guarded(loop, asyncio.sleep(1.0), "a busy step", 0.3)
    finally:
        loop.close()
