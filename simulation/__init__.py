"""The whole-gate simulation: emulated lanes (emulators/) driven by the real controller
(controller/runtime) in virtual time, and what it is made of: lanes from config
(emulation.py), the simulated day (engine.py) and its figures (stats.py, html.py), the
live demo lane (live.py), and the scripted lane that is the core's test bench
(scripted.py). It sits beside the CLI: the CLI, the benchmarks and the tests call it; the
controller's own layers never import it.

    from simulation import SimSpec, simulate
    report = simulate(SimSpec(lanes=8, hours=24, seed=1, faults=2, misbehave=0.05))
"""

from simulation.engine import SIM_EPOCH_S, SIM_TICK_S, SimLane, SimSpec, simulate

__all__ = ["SIM_EPOCH_S", "SIM_TICK_S", "SimLane", "SimSpec", "simulate"]
