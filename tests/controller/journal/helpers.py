"""Shared pieces of the journal tests: a settable wall clock and transaction records."""

from __future__ import annotations

from dataclasses import dataclass

from controller.core.commands import TransactionRecord
from controller.core.types import Decision, Outcome

T0 = 1_800_000_000.0  # 2027-01-15T08:00:00Z
DAY = 86_400.0


@dataclass(slots=True)
class WallClock:
    now: float = T0

    def __call__(self) -> float:
        return self.now


def record(tid: str, lane: str = "L01", gross: int = 24500) -> TransactionRecord:
    return TransactionRecord(
        tid,
        lane,
        f"rq-{tid}",
        "E1",
        Outcome.CLEARED,
        gross,
        b"\x02f",
        Decision.GRANT,
        24400,
        "ok",
        (("weighed", 12.5),),
    )
