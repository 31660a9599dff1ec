"""Clearance manifests: tag (EPC hex) -> decision, declared gross, tolerance, plate.

The reference central service (controller/central.py) answers from one; unknown tags are
denied (DESIGN section 6). Since issue 15 an entry may name the vehicle's number `plate`:
a decision on its tag names that plate (the lane cross-checks it against its camera), and
a request by plate alone (a truck whose tag is dead) finds the entry by it, so a plate
may belong to one entry only. A bad manifest is a one-line error naming the tag and field.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from controller.bridge.payloads import PLATE_PATTERN
from controller.core.types import Decision
from controller.errors import ConfigError


class ManifestEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    decision: Decision
    declared_gross_kg: int | None = Field(default=None, ge=0, le=200_000)
    tolerance_kg: int | None = Field(default=None, ge=0, le=50_000)
    plate: str | None = Field(default=None, pattern=PLATE_PATTERN)


# what central knows of a vehicle asked about by tag (the plate read beside it, if any,
# is the lane's evidence, not a key) or, with the tag None, by plate alone
Lookup = Callable[[str | None, str | None], ManifestEntry | None]


def load_manifest(path: Path) -> dict[str, ManifestEntry]:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as error:
        raise ConfigError("clearance.manifest", f"{path}: {error}") from None
    if not isinstance(document, dict):
        raise ConfigError("clearance.manifest", f"{path}: a mapping of tag -> entry expected")
    manifest: dict[str, ManifestEntry] = {}
    for tag, entry in document.items():
        try:
            manifest[str(tag).upper()] = ManifestEntry.model_validate(entry)
        except ValidationError as error:
            first = error.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise ConfigError(
                "clearance.manifest", f"{path}: {tag}.{where}: {first['msg']}"
            ) from None
    plate_index(manifest, str(path))
    return manifest


def plate_index(manifest: Mapping[str, ManifestEntry], source: str) -> dict[str, str]:
    """plate -> tag; a plate listed for two tags is an error naming the second entry
    (which vehicle a plate request means would be a guess)."""
    tags: dict[str, str] = {}
    for tag, entry in manifest.items():
        if entry.plate is None:
            continue
        if entry.plate in tags:
            raise ConfigError(
                "clearance.manifest",
                f"{source}: {tag}.plate: {entry.plate} is already the plate of {tags[entry.plate]}",
            )
        tags[entry.plate] = tag
    return tags


def manifest_lookup(manifest: Mapping[str, ManifestEntry], source: str = "manifest") -> Lookup:
    """The Lookup of a loaded manifest: by tag (any case), else by plate."""
    by_plate = plate_index(manifest, source)

    def lookup(tag: str | None, plate: str | None) -> ManifestEntry | None:
        if tag is not None:
            return manifest.get(tag.upper())
        found = None if plate is None else by_plate.get(plate)
        return None if found is None else manifest[found]

    return lookup
