"""Clearance manifests: tag (EPC hex) -> decision, declared gross, tolerance.

The reference central service (controller/central.py) answers from one; unknown tags are
denied (DESIGN section 6). A bad manifest is a one-line error naming the tag and field.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from controller.core.types import Decision
from controller.errors import ConfigError


class ManifestEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    decision: Decision
    declared_gross_kg: int | None = Field(default=None, ge=0, le=200_000)
    tolerance_kg: int | None = Field(default=None, ge=0, le=50_000)


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
    return manifest
