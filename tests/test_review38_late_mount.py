"""Review 38 RA, item 1 (mended by RC): a mount made inside a watched worktree after the
watcher set it up (a bind mount, a tmpfs, a FUSE file system) covers folders whose watches
stay on the folders below it: nothing written in the mount raised an event, the file-system
check (blind_roots) ran only at setup and rescans, and every snapshot kept the old bytes
while the watcher ran. The daemon now rescans a worktree whose mount points changed (the
mount table's poll() event), and a snapshot trusts no folder of the dirty set while the
mount points under the worktree differ from those the daemon recorded (a hook in another
mount namespace, whose mounts the daemon never sees). Needs root (mount, unshare)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from clihelpers import VENV_BIN
from clihelpers import gs
from test_watch_daemon import Watcher
from test_watch_daemon import add
from test_watch_daemon import make_repo
from test_watch_daemon import settled
from test_watch_daemon import wait_for
from test_watch_daemon import watch_snaps
from test_watch_daemon import watcher  # noqa: F401  (the fixture)

from git_snapshot.store import Store

pytestmark = [
    pytest.mark.skipif(not os.path.exists("/proc/sys/fs/inotify"), reason="inotify only"),
    pytest.mark.skipif(os.geteuid() != 0, reason="mount needs root"),
]


def _held(repo: Path, rel: str) -> bytes | None:
    """What the newest watch snapshot of *repo* holds at *rel* (None: not there)."""
    snaps = watch_snaps(repo)
    if not snaps:
        return None
    with Store() as store:
        for path, entry in store.walk(snaps[-1].root):
            if path == os.fsencode(rel):
                return b"".join(store.stream_blob(entry.ref)) if entry.size else b""
    return None


def _watched(
    tmp_path: Path,
    store_dir: Path,
    watcher: Watcher,  # noqa: F811
    under: str | None = None,
) -> tuple[Path, Path]:
    """A folder outside to mount (deep/f.txt), and a watched repository with a folder mnt/
    (holding under.txt with *under*, if given)."""
    outside = tmp_path / "outside"
    (outside / "deep").mkdir(parents=True)
    (outside / "deep" / "f.txt").write_text("one\n")
    repo = make_repo(tmp_path)
    (repo / "mnt").mkdir()
    if under is not None:
        (repo / "mnt" / "under.txt").write_text(under)
    add(store_dir, repo)
    watcher.start()
    watcher.watching(repo)
    settled(watcher, repo)
    return outside, repo


def _mount(source: Path, point: Path) -> None:
    if subprocess.run(["mount", "--bind", str(source), str(point)], check=False).returncode:
        pytest.skip("mount --bind failed here")


def test_the_watcher_sees_into_a_mount_made_and_removed_after_it_started(
    tmp_path: Path,
    store_dir: Path,
    watcher: Watcher,  # noqa: F811
) -> None:
    outside, repo = _watched(tmp_path, store_dir, watcher, under="below the mount\n")
    _mount(outside, repo / "mnt")
    try:
        (repo / "mnt" / "deep" / "f.txt").write_text("two two\n")
        wait_for(lambda: _held(repo, "mnt/deep/f.txt") == b"two two\n", what="the mount seen")
        # (the first write may be found by the stat pass over mnt/, whose entries changed;
        # nothing but a watch in the mount sees the next one)
        (repo / "mnt" / "deep" / "f.txt").write_text("three three three\n")
        wait_for(
            lambda: _held(repo, "mnt/deep/f.txt") == b"three three three\n",
            what="a later write in the mount seen",
        )
        assert gs(repo, "cat", "latest", "mnt/deep/f.txt").out == "three three three\n"
    finally:
        subprocess.run(["umount", "-l", str(repo / "mnt")], check=False)
    # the folder the mount covered is watched again
    wait_for(lambda: _held(repo, "mnt/deep/f.txt") is None, what="the unmount seen")
    (repo / "mnt" / "under.txt").write_text("written after the unmount\n")
    wait_for(
        lambda: _held(repo, "mnt/under.txt") == b"written after the unmount\n",
        what="the covered folder watched again",
    )


def test_a_snapshot_in_another_mount_namespace_walks_what_the_watcher_cannot_see(
    tmp_path: Path,
    store_dir: Path,
    watcher: Watcher,  # noqa: F811
) -> None:
    outside, repo = _watched(tmp_path, store_dir, watcher)
    gs(repo, "create", "-m", "base")  # (a hook's base: the next one trusts the dirty set)
    script = (
        f"mount --bind {outside} {repo / 'mnt'} && "
        f"echo 'two two' > {repo / 'mnt' / 'deep' / 'f.txt'} && "
        "git snapshot create -m in-the-namespace"
    )
    env = {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    ran = subprocess.run(
        ["unshare", "-m", "--propagation", "private", "sh", "-c", script],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if ran.returncode and "unshare" in ran.stderr:
        pytest.skip(f"unshare failed: {ran.stderr}")
    assert ran.returncode == 0, ran.stderr
    assert gs(repo, "cat", "latest", "mnt/deep/f.txt", rc=None).out == "two two\n"
