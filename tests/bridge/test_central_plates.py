"""The reference central service and its manifests with plates (issue 15): a decision on a
tag names the entry's plate, a request by plate alone is answered from the entry with
that plate (an unknown plate is denied, like an unknown tag), and a manifest that lists a
plate twice, or a plate that is not one, is refused naming the entry."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from controller.bridge.payloads import DecisionPayload
from controller.bridge.verify import Accepted
from controller.central import Central, MemorySeqCounter, _answer
from controller.clearance import ManifestEntry, load_manifest, manifest_lookup
from controller.core.types import Decision
from controller.errors import ConfigError
from tests.bridge.signed import Keys, raw

TAG, OTHER, BARE = "E2801170000002AA", "E2801170000002BB", "E2801170000002CC"
MANIFEST = f"""\
{TAG}: {{decision: grant, declared_gross_kg: 31000, plate: 29C12345}}
{OTHER}: {{decision: inspect, plate: 51D67890}}
{BARE}: {{decision: grant}}
"""


def central(keys: Keys, manifest: dict[str, ManifestEntry]) -> Central:
    return Central.from_manifest(
        manifest, signer=keys.signer, wall_clock=keys.clock, counter=MemorySeqCounter()
    )


async def verified(keys: Keys, signed: dict[str, object], request_id: str) -> DecisionPayload:
    result = await keys.verifier().verify("decision", raw(signed), "L01", request_id)
    assert isinstance(result, Accepted), result
    assert isinstance(result.payload, DecisionPayload)
    return result.payload


def written(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "manifest.yaml"
    path.write_text(text, encoding="utf-8")
    return path


async def test_a_decision_on_a_tag_names_the_entry_s_plate_when_it_has_one(tmp_path: Path) -> None:
    keys = Keys()
    service = central(keys, load_manifest(written(tmp_path, MANIFEST)))
    named = await verified(keys, service.decide("L01", "r1", TAG.lower(), "29C99999"), "r1")
    assert (named.tag, named.plate, named.decision) == (TAG.lower(), "29C12345", Decision.GRANT)
    assert named.declared_gross_kg == 31_000
    bare = service.decide("L01", "r2", BARE)
    assert "plate" not in bare  # omitted, never null
    assert (await verified(keys, bare, "r2")).decision == Decision.GRANT


async def test_a_request_by_plate_alone_is_answered_from_the_entry_with_it(tmp_path: Path) -> None:
    keys = Keys()
    service = central(keys, load_manifest(written(tmp_path, MANIFEST)))
    signed = service.decide("L01", "r1", None, "51D67890")
    assert "tag" not in signed
    found = await verified(keys, signed, "r1")
    assert (found.plate, found.decision) == ("51D67890", Decision.INSPECT)
    unknown = await verified(keys, service.decide("L01", "r2", None, "30A11111"), "r2")
    assert (unknown.plate, unknown.decision) == ("30A11111", Decision.DENY)
    unknown_tag = await verified(keys, service.decide("L01", "r3", "E2801170000002DD"), "r3")
    assert (unknown_tag.plate, unknown_tag.decision) == (None, Decision.DENY)


def test_central_answers_a_plate_request_from_the_wire(tmp_path: Path) -> None:
    keys = Keys()
    service = central(keys, load_manifest(written(tmp_path, MANIFEST)))
    request = {
        "schema": "gatebridge.clearance_request/1",
        "lane": "L01",
        "request_id": "r1",
        "plate": "29C12345",
        "ts": "2027-01-15T08:00:00.000Z",
    }
    answer = _answer(service, "gate/s/gw/L01/clearance/request", json.dumps(request).encode())
    assert answer is not None
    topic, body = answer
    decision = json.loads(body)
    assert topic == "gate/s/gw/L01/clearance/decision"
    assert (decision["plate"], decision["decision"], "tag" in decision) == (
        "29C12345",
        "grant",
        False,
    )
    nameless = {k: v for k, v in request.items() if k != "plate"}
    assert (
        _answer(service, "gate/s/gw/L01/clearance/request", json.dumps(nameless).encode()) is None
    )
    assert service.decided == 1  # the request naming neither was not answered


def test_a_plate_listed_for_two_tags_is_refused_naming_the_entry(tmp_path: Path) -> None:
    twice = MANIFEST + "E2801170000002EE: {decision: grant, plate: 29C12345}\n"
    with pytest.raises(ConfigError, match=r"E2801170000002EE\.plate: 29C12345 is already .*02AA"):
        load_manifest(written(tmp_path, twice))
    in_memory = {
        TAG: ManifestEntry(decision=Decision.GRANT, plate="29C12345"),
        OTHER: ManifestEntry(decision=Decision.GRANT, plate="29C12345"),
    }
    with pytest.raises(ConfigError, match=rf"{OTHER}\.plate: 29C12345"):
        manifest_lookup(in_memory)


@pytest.mark.parametrize("plate", ["29c12345", "29C-123.45", "ABC", "ABCDEFGHIJK"])
def test_a_manifest_plate_that_is_not_a_plate_is_refused_by_field(
    tmp_path: Path, plate: str
) -> None:
    bad = MANIFEST + f"E2801170000002EE: {{decision: grant, plate: '{plate}'}}\n"
    with pytest.raises(ConfigError, match=r"E2801170000002EE\.plate: String should"):
        load_manifest(written(tmp_path, bad))


def test_a_manifest_without_plates_loads_as_before(tmp_path: Path) -> None:
    manifest = load_manifest(written(tmp_path, f"{TAG}: {{decision: deny}}\n"))
    assert manifest == {TAG: ManifestEntry(decision=Decision.DENY)}
    lookup = manifest_lookup(manifest)
    assert lookup(TAG, "29C12345") == ManifestEntry(decision=Decision.DENY)
    assert lookup(None, "29C12345") is None
