"""Writes events and commits transactions in a loop, printing each transaction id only
after its commit returned: what the kill -9 test may count on. With the outbox on, as with
a broker that never answers: everything stays pending. Usage: crash_writer.py DB"""

from __future__ import annotations

import asyncio
import itertools
import sys
import time
from pathlib import Path

from controller.core.commands import TransactionRecord
from controller.core.types import Outcome
from controller.journal.sqlite import SqliteJournal


async def main(path: Path) -> None:
    journal = await SqliteJournal.open(path, time.time, outbox=True)
    start = len(await journal.transactions())
    for n in itertools.count(start):
        await journal.append_event("L01", "weight_captured", {"n": n})
        record = TransactionRecord(
            f"tx-{n}",
            "L01",
            f"rq-{n}",
            f"E{n}",
            Outcome.CLEARED,
            20000 + n,
            b"\x02frame",
            None,
            None,
            "ok",
            (("weighed", 1.0),),
        )
        await journal.commit_transaction(record)
        print(record.transaction_id, flush=True)  # noqa: T201 - the test reads these lines


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1])))
