"""`gatectl demo` (scripted): the pure core driving a scripted lane, step by step.

Four trucks in virtual time: one cleared end to end, one denied at the approach, one
held for a weight mismatch and released by an officer, one more cleared. Every state
change, light, barrier command and lane event is printed, then a summary.
"""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from controller.core.commands import MoveBarrier
from controller.core.events import OperatorCommanded
from controller.core.types import Aspect, Decision, OperatorAction, Role
from simulation.scripted import ScriptedLane, Truck


def run_demo(console: Console, *, verbose: bool = True) -> ScriptedLane:
    def log(t: float, text: str) -> None:
        if verbose:
            console.print(f"[dim]{t:8.2f}s[/dim]  {text}", highlight=False)

    lane = ScriptedLane(log=log)
    lane.run_for(2.0)
    _cleared(console, lane, Truck("E200000000000001", 24500, declared_kg=24400))
    _denied(console, lane, Truck("E200000000000002", 18000, Decision.DENY))
    _held(console, lane, Truck("E200000000000003", 24000, declared_kg=30000))
    _cleared(console, lane, Truck("E200000000000004", 31000))
    _summary(console, lane)
    return lane


def _cleared(console: Console, lane: ScriptedLane, truck: Truck) -> None:
    console.rule(f"truck {truck.tag}: {truck.gross_kg} kg, expected to clear")
    if not lane.process(truck):
        raise RuntimeError(f"demo: truck {truck.tag} did not clear (state {lane.core.state})")


def _denied(console: Console, lane: ScriptedLane, truck: Truck) -> None:
    console.rule(f"truck {truck.tag}: not on the manifest's grant list, expected to be denied")
    lane.manifest[truck.tag] = truck
    lane.arrive(truck)
    lane.run_until(lambda: lane.core.signs[1], 30.0)
    console.print(f"  sign 'reverse out' lit: {lane.core.signs[1]}; entry light {lane.lights[0]}")
    lane.run_for(5.0)
    lane.set_inputs(approach_loop=False)  # the driver reverses out of the lane
    lane.run_for(1.0)


def _held(console: Console, lane: ScriptedLane, truck: Truck) -> None:
    console.rule(f"truck {truck.tag}: declares {truck.declared_kg} kg, weighs {truck.gross_kg}")
    lane.arrive(truck)
    lane.run_until(lambda: lane.lights[0] == Aspect.GREEN, 60.0)
    lane.run_for(lane.reaction_s)
    lane.drive_onto_deck(truck)
    lane.run_until(lambda: lane.core.state.value == "hold", 60.0)
    console.print(f"  lane held: {lane.core.deck.hold_reason if lane.core.deck else '?'}")
    lane.run_for(10.0)
    officer = OperatorCommanded(
        lane.now,
        OperatorAction.RELEASE,
        "officer.nguyen",
        Role.OFFICER,
        authenticated=True,
        reason="manifest amended after inspection",
    )
    lane.feed(officer)
    lane.run_until(lambda: lane.lights[1] == Aspect.GREEN, 60.0)
    lane.run_for(lane.reaction_s)
    lane.drive_off()
    lane.run_until(lambda: lane.core.state.value == "idle", 60.0)


def _summary(console: Console, lane: ScriptedLane) -> None:
    table = Table(title="transactions committed (durably, before each exit opened)")
    for column in ("transaction", "tag", "outcome", "gross kg", "reason"):
        table.add_column(column)
    for record in lane.committed:
        gross = "-" if record.gross_kg is None else f"{record.gross_kg:,}"
        table.add_row(
            record.transaction_id, record.tag or "-", record.outcome.value, gross, record.reason
        )
    console.print(table)
    moves = sum(isinstance(c, MoveBarrier) for c in lane.commands)
    vetoes = sum(1 for e in lane.events if e.type == "command_vetoed")
    console.print(
        f"simulated {lane.now:.0f} s; {len(lane.committed)} transactions; {moves} barrier "
        f"commands; {vetoes} interlock vetoes; final state {lane.core.state.value}"
    )
