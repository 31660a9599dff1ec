"""What the pages show, shaped from the controller's status (runtime/lane.py snapshot):
plain strings per field, so a page and its live updates render the same text."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

DEVICES = ("io", "entry_barrier", "exit_barrier", "scale", "rfid")
IDENTIFIABLE = ("waiting_tag", "ambiguous", "timed_out")  # core/operator.py _REIDENTIFIABLE
DECIDABLE = ("identity_mismatch", "awaiting_confirmation")  # an officer confirms or refuses
EVIDENCE = ("plate", "plate_confidence", "expected_plate", "snapshot_sha256", "request_id")
NONE = "-"


@dataclass(frozen=True, slots=True)
class Held:
    lane: str
    transaction: str
    tag: str
    declared: str
    weighed: str
    decision: str
    reason: str
    waiting: str


@dataclass(frozen=True, slots=True)
class Approach:
    lane: str
    stage: str
    tag: str
    plate: str = NONE
    confidence: str = NONE
    expected_plate: str = NONE
    snapshot_sha256: str = ""
    request_id: str = ""  # the clearance request: a confirm/refuse names it

    @property
    def key(self) -> str:
        """The card's identity on the live page: a vehicle that now waits to be confirmed
        rather than identified, or another vehicle to confirm, is a new card with its own
        forms (an identify card is kept while the officer types into it)."""
        return (
            f"{self.lane}:decide:{self.request_id}" if self.decidable else f"{self.lane}:identify"
        )

    @property
    def decidable(self) -> bool:
        """Held at the approach for an officer to confirm or refuse."""
        return self.stage in DECIDABLE

    def hidden(self, action: str) -> dict[str, str]:
        """A confirm/refuse form's hidden fields: the action, and the vehicle it is for."""
        return {"action": action} | ({"request_id": self.request_id} if self.request_id else {})


def lanes(status: dict[str, Any]) -> list[dict[str, Any]]:
    return [lane for lane in status.get("lanes", []) if isinstance(lane, dict)]


def lane_fields(snap: dict[str, Any]) -> dict[str, str]:
    """data-field -> text for one lane's card."""
    lights, barriers = snap.get("lights") or {}, snap.get("barriers") or {}
    alarms = snap.get("alarms") or {}
    fields = {
        "state": str(snap.get("state", NONE)),
        "light_entry": str(lights.get("entry", NONE)),
        "light_exit": str(lights.get("exit", NONE)),
        "barrier_entry": str(barriers.get("entry", NONE)),
        "barrier_exit": str(barriers.get("exit", NONE)),
        "deck_kg": _kg(snap.get("deck_kg")),
        "deck_vehicle": str(snap.get("deck_vehicle") or NONE),
        "approach": str(approach_of(snap).get("stage") or NONE),
        "hold_reason": str(snap.get("hold_reason") or NONE),
        "alarms": "; ".join(f"{code}: {text}" for code, text in alarms.items()) or "none",
        "latched_fault": str(snap.get("latched_fault") or "none"),
    }
    devices = snap.get("devices") or {}
    for device in DEVICES:
        fields[f"device_{device}"] = _health(devices.get(device))
    return fields


def held(status: dict[str, Any]) -> list[Held]:
    """The trucks waiting on the deck for an officer, longest waiting first."""
    now = float(status.get("monotonic_s") or 0.0)
    found = []
    for snap in lanes(status):
        if snap.get("state") != "hold" or not snap.get("deck_transaction"):
            continue
        times = snap.get("deck_times") or {}
        since = times.get("hold", now)
        found.append((since, _held(snap, max(0.0, now - float(since)))))
    return [entry for _, entry in sorted(found, key=lambda pair: pair[0])]


def _held(snap: dict[str, Any], waited_s: float) -> Held:
    return Held(
        lane=str(snap["lane"]),
        transaction=str(snap["deck_transaction"]),
        tag=str(snap.get("deck_vehicle") or "unidentified"),
        declared=_kg(snap.get("deck_declared_kg"), "none declared"),
        weighed=_kg(snap.get("deck_gross_kg"), "not weighed"),
        decision=str(snap.get("deck_decision") or "none"),
        reason=str(snap.get("hold_reason") or "held"),
        waiting=duration(waited_s),
    )


def approach_of(snap: dict[str, Any]) -> dict[str, Any]:
    """The lane's approach vehicle as one mapping (`stage`, `tag`, the plate evidence),
    whether the status carries it as a part of its own or as flat `approach_*` keys;
    a key the controller does not send is missing, never an error."""
    part = snap.get("approach")
    if isinstance(part, dict):
        return part
    flat = {key: snap.get(f"approach_{key}") for key in ("tag", *EVIDENCE)}
    return {"stage": part, **flat}


def approaches(status: dict[str, Any]) -> list[Approach]:
    """Vehicles at an approach that wait for an officer: to be identified by hand, or
    (identity mismatch, cleared by the plate alone) to be confirmed or refused."""
    found = []
    for snap in lanes(status):
        part = approach_of(snap)
        if part.get("stage") in IDENTIFIABLE + DECIDABLE:
            found.append(_approach(str(snap["lane"]), part))
    return found


def _approach(lane: str, part: dict[str, Any]) -> Approach:
    confidence = part.get("plate_confidence")
    return Approach(
        lane=lane,
        stage=str(part["stage"]),
        tag=str(part.get("tag") or "none read"),
        plate=str(part.get("plate") or "none read"),
        confidence=f"{confidence:.2f}" if isinstance(confidence, int | float) else NONE,
        expected_plate=str(part.get("expected_plate") or "none named"),
        snapshot_sha256=str(part.get("snapshot_sha256") or ""),
        request_id=str(part.get("request_id") or ""),
    )


def duration(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes} min {secs:02d} s" if minutes else f"{secs} s"


def _kg(value: object, missing: str = NONE) -> str:
    return f"{float(value):,.0f} kg" if isinstance(value, int | float) else missing


def _health(status: object) -> str:
    if not isinstance(status, dict):
        return "unknown"
    return "ok" if status.get("healthy") else f"STALE: {status.get('error') or 'no data'}"
