"""The scripted lane's manifest answers as the reference central does (issue 15): by tag,
naming the plate on the truck's papers; by plate alone, the truck with that plate, the
plate echoed; an unknown plate is denied."""

from __future__ import annotations

from controller.core.commands import Command, RequestClearance
from controller.core.events import ClearanceDecided, Event
from controller.core.types import Decision
from simulation.scripted import ScriptedLane, Truck


def answers(*requests: RequestClearance) -> list[tuple[str, Decision, str | None]]:
    decided: list[ClearanceDecided] = []

    class Recording(ScriptedLane):
        """A scripted lane that keeps every decision it hands its core."""

        def feed(self, event: Event) -> list[Command]:
            if isinstance(event, ClearanceDecided):
                decided.append(event)
            return super().feed(event)

    lane = Recording()
    lane.manifest = {
        "E1": Truck("E1", 20_000, declared_kg=20_000, plate="29C12345"),
        "E2": Truck("E2", 21_000, Decision.INSPECT),
    }
    for request in requests:
        lane._do(request)
    lane.run_for(lane.clearance_s + 1)
    return [(d.request_id, d.decision, d.plate) for d in decided]


def test_the_scripted_manifest_answers_by_tag_and_by_plate() -> None:
    assert answers(
        RequestClearance("r1", "E1", "29C99999"),
        RequestClearance("r2", "E2"),
        RequestClearance("r3", None, "29C12345"),
        RequestClearance("r4", None, "30A11111"),
    ) == [
        ("r1", Decision.GRANT, "29C12345"),
        ("r2", Decision.INSPECT, None),
        ("r3", Decision.GRANT, "29C12345"),
        ("r4", Decision.DENY, "30A11111"),
    ]
