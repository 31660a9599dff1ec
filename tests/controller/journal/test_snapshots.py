"""The cameras' snapshot store: by hash, atomic, idempotent, pruned like the journal."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from controller.journal.snapshots import (
    SnapshotError,
    SnapshotLimits,
    SnapshotStore,
    snapshot_hash,
)

DAY = 86_400.0


def jpeg(n: int, size: int = 100) -> bytes:
    return b"\xff\xd8\xff" + n.to_bytes(4, "big") * (size // 4) + b"\xff\xd9"


class Clock:
    def __init__(self) -> None:
        self.now = 1_000 * DAY

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def store(tmp_path: Path, clock: Clock) -> AsyncIterator[SnapshotStore]:
    opened = SnapshotStore(tmp_path / "snaps", SnapshotLimits(10 * DAY, 1000), clock)
    yield opened
    await opened.close()


async def put(store: SnapshotStore, data: bytes, clock: Clock | None = None) -> Path:
    path = await store.put(snapshot_hash(data), data)
    if clock is not None:  # the file's time is the clock's, as the store refreshes it
        os.utime(path, (clock.now, clock.now))
    return path


async def test_a_snapshot_is_stored_under_its_hash(store: SnapshotStore) -> None:
    data = jpeg(1)
    sha = snapshot_hash(data)
    path = await store.put(sha, data)
    assert path == store.dir / sha[:2] / f"{sha}.jpg" == store.path_for(sha)
    assert path.read_bytes() == data
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary left


async def test_the_same_snapshot_twice_is_one_file_with_its_age_refreshed(
    store: SnapshotStore, clock: Clock
) -> None:
    data = jpeg(2)
    path = await put(store, data, clock)
    clock.now += 5 * DAY
    assert await put(store, data) == path
    assert path.stat().st_mtime == pytest.approx(clock.now)
    assert len(list(store.dir.rglob("*.jpg"))) == 1


async def test_bytes_that_are_not_the_hash_are_refused(store: SnapshotStore) -> None:
    with pytest.raises(ValueError, match=r"snapshot_sha256: .* is not the hash"):
        await store.put(snapshot_hash(jpeg(3)), jpeg(4))


@pytest.mark.parametrize("name", ["", "../" + "a" * 61, "A" * 64, "a" * 63, "g" * 64])
def test_a_lookup_takes_only_a_sha256(store: SnapshotStore, name: str) -> None:
    with pytest.raises(ValueError, match="snapshot_sha256: not 64 lower-case hex"):
        store.path_for(name)


async def test_a_directory_that_cannot_be_made_is_a_snapshot_error(
    tmp_path: Path, clock: Clock
) -> None:
    (tmp_path / "file").write_text("not a directory")
    blocked = SnapshotStore(tmp_path / "file" / "snaps", wall_clock=clock)
    try:
        with pytest.raises(SnapshotError, match=r"snapshot .*file/snaps"):
            await put(blocked, jpeg(5))
    finally:
        await blocked.close()


async def test_retention_prunes_by_age(store: SnapshotStore, clock: Clock) -> None:
    old = await put(store, jpeg(6), clock)
    clock.now += 11 * DAY
    young = await put(store, jpeg(7), clock)
    assert await store.prune() == 1
    assert not old.exists()
    assert young.exists()


async def test_retention_prunes_by_size_oldest_first(store: SnapshotStore, clock: Clock) -> None:
    paths = []
    for n in range(4):  # 4 x 300 bytes against a 1000-byte limit
        paths.append(await put(store, jpeg(10 + n, 295), clock))
        clock.now += 60
    assert await store.prune() == 1
    assert [p.exists() for p in paths] == [False, True, True, True]
    assert await store.prune() == 0


async def test_retention_removes_temporaries_left_by_a_crash(
    store: SnapshotStore, clock: Clock
) -> None:
    path = await put(store, jpeg(20), clock)
    stale = path.parent / ".abc.x.tmp"
    stale.write_bytes(b"torn")
    os.utime(stale, (clock.now - 2 * 3600, clock.now - 2 * 3600))
    fresh = path.parent / ".abd.y.tmp"  # a write in progress
    fresh.write_bytes(b"half")
    os.utime(fresh, (clock.now, clock.now))
    assert await store.prune() == 0
    assert not stale.exists()
    assert fresh.exists()
    assert path.exists()


async def test_retention_of_a_store_never_written_deletes_nothing(store: SnapshotStore) -> None:
    assert await store.prune() == 0
    assert not store.dir.exists()
