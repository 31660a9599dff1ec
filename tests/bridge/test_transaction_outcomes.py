"""The transactions topic carries every outcome the core commits: `maintenance_crossing`
(a vehicle that crossed the deck in maintenance) was added to the contract, additively."""

from __future__ import annotations

import json

from controller.bridge.mqtt import transaction_payload
from controller.core.commands import TransactionRecord
from controller.core.types import Outcome
from controller.journal.codec import dumps, json_object
from controller.journal.sqlite import OutboxItem


def test_a_maintenance_crossing_is_published_with_its_weight() -> None:
    record = TransactionRecord(
        "0f6c1f0e-5b7a-4c1e-9d3c-2f1a7b8e9c01",
        "L01",
        None,
        None,
        Outcome.MAINTENANCE_CROSSING,
        31_200,
        b"\x02w",
        None,
        None,
        "crossed the deck in maintenance",
        (("found", 2.0), ("left", 9.0)),
    )
    row = OutboxItem(
        "transaction",
        "L01",
        record.transaction_id,
        None,
        "2027-01-15T08:00:00.000Z",
        "transaction",
        json_object(dumps(record)),
    )
    payload = json.loads(transaction_payload(row))
    assert payload["outcome"] == "maintenance_crossing"
    assert payload["gross_kg"] == 31_200
