"""The socket's `snapshot` request: a camera read's JPEG by its sha256, for any role, from
the gateway's snapshot store; a malformed hash names the field, a pruned one says so."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from controller.core.types import Role
from controller.journal.snapshots import SnapshotStore, snapshot_hash
from controller.maintenance.audit import AuditLog
from controller.maintenance.protocol import SnapshotRequest, parse_request
from controller.maintenance.server import Caller, MaintenanceServer
from controller.runtime.gateway import Gateway
from emulators.camera.snapshot import render_plate

VIEWER = Caller(pid=7, uid=1001, user="view.al", role=Role.VIEWER)


def test_a_malformed_hash_names_the_field() -> None:
    error = parse_request(json.dumps({"op": "snapshot", "sha256": "../../etc/passwd"}).encode())
    assert isinstance(error, str)
    assert error.startswith("snapshot.sha256: String should match pattern")


async def test_a_kept_snapshot_is_answered_to_a_viewer_and_a_pruned_one_refused(
    tmp_path: Path,
) -> None:
    store = SnapshotStore(tmp_path / "snapshots")
    jpeg = render_plate("29C12345")
    sha = snapshot_hash(jpeg)
    await store.put(sha, jpeg)
    server = MaintenanceServer(tmp_path / "s", Gateway([], store), AuditLog(tmp_path / "a"), {})
    try:
        kept = await server._snapshot(SnapshotRequest(op="snapshot", sha256=sha), VIEWER)
        gone = await server._snapshot(SnapshotRequest(op="snapshot", sha256="0" * 64), VIEWER)
    finally:
        await store.close()
    assert kept.ok
    assert base64.b64decode(str(kept.data["jpeg_base64"])) == jpeg
    assert (gone.ok, gone.kind) == (False, "refused")
    assert gone.error == f"sha256: no snapshot {'0' * 64} is kept (pruned, or never stored)"
