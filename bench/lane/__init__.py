"""Lane figures (DESIGN section 9): capacity against an ideal and a sequential controller,
reaction and safe-state latencies on the wire, CPU per lane, simulation speed and memory.

Run: .venv/bin/python -m bench.lane [--quick]      (one part alone: --part NAME)

(a) capacity: one lane, saturated queue, default physics, virtual time (the simulation's
    own loop). The real controller is the runtime through `gatectl simulate`'s machinery.
    The two yardsticks drive the same emulated lane (World and device models, same seed,
    same 20 Hz physics ticker, same traffic rule, same in-process clearance service and so the
    same clearance-latency distribution) from its ground truth, with zero latency: every
    physics tick they read the devices' true state into the core's own `SensorImage` and
    judge with the core's own predicates (S1 clear-hold, S3, S4 stable weight, S12 zero)
    and weighing policy (LaneParams), then command the models directly. IDEAL asks
    clearance for every queued truck as soon as its tag is readable; SEQUENTIAL starts
    identification and clearance of the next truck only once the deck is free (S3, S12).
    Targets: real >= 97 % of ideal, real >= 1.10x sequential.
(b) reaction: 8 lanes in one process, real time; each I/O module a Modbus TCP emulator on
    127.0.0.1 (polled at poll_ms 50), barriers, scale and RFID in memory. Timestamps are
    taken at the emulated I/O module (loop time): when the world sets an arm loop in its
    input image while that side's green is on, and when the coil write that turns that
    green off (S2: red on the rising edge of presence at the arm) arrives.
    Target p99 <= poll_ms + 20 ms. (It is the 8-lane run of (d), with a longer window.)
(c) safe state: 8 lanes in maintenance with a manual green (entry barrier open); a
    device (scale, RS-485 barrier bus, RFID in turn) goes silent through its wire
    FaultBook; measured: silence start -> the coil write that turns the green off, and,
    S7's own clock, data older than fresh_ms -> that write. Target p99 <= safe_ms.
(d) scale: 1, 8, 32, 64 lanes as in (b): process CPU time over a fixed real-time window,
    per lane, emulators included (they run in the same process, on the same loop), and
    the same emulators before the runtimes started, for comparison; the reaction p99
    under that load. Target: 32 lanes within one core (CPU fraction < 1.0) with the
    reaction target met.
(e) simulation: 8 lanes through the full polling stack in memory (`gatectl simulate`'s
    own function) for a simulated day (--quick: 1 hour): speed as a multiple of real
    time (>= 60x); VmRSS after warm-up and at the end (<= 100 MB, growth <= 5 MB), with
    the growth of what only the simulation keeps (the in-memory stand-in for the on-disk
    journal, departed trucks, the emulators' logs) sized apart.

Each part runs in a fresh subprocess (clean RSS and CPU accounting, no leftover tasks or
sockets); capacity, being virtual time, runs beside the others on the second core; the
simulation runs alone. The table and bench/results/lane.json list each figure with its
target and verdict, the machine, and the details of each part.
The real-time runs (b-d) use faster lane physics through the lane's `emulation:`
overrides (WIRE_PHYSICS: trucks at 40 km/h, 1 s barriers, a quicker driver and scale
settle), so a truck cycle takes about 10 s and there are enough reactions to take
percentiles, while every device keeps its real data rate (no `time_scale`: the scale
streams at 10 Hz, the controller polls as configured); the physics step is off the 50 ms
polling grid so input changes fall at every phase of the poll. Time is read only through
the event loop, except the bench's own wall-clock and CPU-time measurement.
"""
