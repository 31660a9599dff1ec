"""In-process clearance: a manifest decides, after the service's latency.

Used by `gatectl demo`, `gatectl simulate` and `gatectl run` with `clearance.manifest`
set and no broker (DESIGN section 6). The manifest maps tags (EPC hex) to a decision and
the declared gross; unknown tags are denied. Latency is drawn around the configured
median from a seeded RNG and waited on the event loop, so simulations stay in virtual time.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from controller.core.types import Decision
from controller.errors import ConfigError
from controller.runtime.ports import DecisionSink, VerifiedDecision


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


@dataclass(slots=True)
class ManifestClearance:
    lookup: Callable[[str], ManifestEntry | None]
    median_s: float = 3.0
    seed: int = 0
    _rng: random.Random = field(init=False)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    requests: int = 0

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)  # noqa: S311 - simulated service latency

    @classmethod
    def from_manifest(cls, manifest: Mapping[str, ManifestEntry], **kw: float) -> ManifestClearance:
        return cls(lambda tag: manifest.get(tag.upper()), **kw)  # type: ignore[arg-type]

    def request(self, lane: str, request_id: str, tag: str, deliver: DecisionSink) -> None:
        self.requests += 1
        latency = self.median_s * self._rng.lognormvariate(0, 0.35) if self.median_s else 0.0
        entry = self.lookup(tag)

        async def answer() -> None:
            await asyncio.sleep(latency)
            if entry is None:
                deliver(VerifiedDecision(request_id, Decision.DENY))
            else:
                deliver(
                    VerifiedDecision(
                        request_id, entry.decision, entry.declared_gross_kg, entry.tolerance_kg
                    )
                )

        task = asyncio.get_running_loop().create_task(answer(), name=f"clearance:{request_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def cancel_all(self) -> None:
        for task in self._tasks:
            task.cancel()
