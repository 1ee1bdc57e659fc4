"""The watcher trusts inotify on a local disk file system outside the walk's TRUSTED_FS (zfs,
vfat, exfat...): only this kernel writes it, so every change made to it raises an event. A
worktree there, or such a mount inside one, keeps the dirty set's speed; FUSE, NFS, 9p, cifs and
overlay stay blind (RED38 A1c; the real FUSE case: tests/test_red38_watch_no_event.py). This
machine's kernel mounts none of the local ones (no vfat module): the mount table is given."""

from __future__ import annotations

from pathlib import Path

import pytest

from git_snapshot.store import walker
from git_snapshot.watch import watchset


def _blind(monkeypatch: pytest.MonkeyPatch, root: Path, mounts: list[tuple[str, str]]) -> list[str]:
    monkeypatch.setattr(walker, "mount_table", lambda: [(0, p, kind) for p, kind in mounts])
    monkeypatch.setattr(watchset, "_fs_at", lambda p, t: dict(mounts).get(p, "ext4"))
    return [kind for _, kind in watchset.blind_roots(str(root))]


@pytest.mark.parametrize("kind", ["zfs", "vfat", "exfat", "ntfs3", "bcachefs"])
def test_a_local_file_system_is_watched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    (tmp_path / "disk").mkdir()
    mounts = [(str(tmp_path), kind), (str(tmp_path / "disk"), kind)]
    assert _blind(monkeypatch, tmp_path, mounts) == []


@pytest.mark.parametrize("kind", ["fuse.sshfs", "nfs4", "9p", "cifs", "overlay", "virtiofs"])
def test_a_shared_file_system_inside_a_worktree_is_blind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    (tmp_path / "shared").mkdir()
    mounts = [(str(tmp_path), "zfs"), (str(tmp_path / "shared"), kind)]
    assert _blind(monkeypatch, tmp_path, mounts) == [kind]
