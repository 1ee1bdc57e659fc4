"""Red team (session 30): a worktree deleted whole whose files all lie at its top.

With the watcher, ``git worktree remove --force`` of a linked worktree, or an ``rm -rf`` of a
whole repository, was reported only when the worktree had a subfolder: a folder deleted opens
a burst at once, a few files do not (the threshold is 100), and the worktree's own root going
was no deletion the burst detector heard of. So a small worktree (dotfiles, a config repo, a
scratch worktree) went with no report, though the watcher's snapshot held its files. Now the
root's going is a folder deleted: the burst opens with the files deleted just before."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from conftest import init_repo
from test_watch_daemon import Watcher
from test_watch_daemon import add
from test_watch_daemon import paths_in
from test_watch_daemon import settled
from test_watch_daemon import wait_for
from test_watch_daemon import watch_snaps
from test_watch_daemon import watcher  # noqa: F401  (the fixture)

pytestmark = pytest.mark.skipif(
    not os.path.exists("/proc/sys/fs/inotify"), reason="inotify (Linux) only"
)


def _flat(path: Path) -> Path:
    r = init_repo(path)
    (r / ".gitignore").write_text(".env\n")
    (r / "base").write_text("base\n")
    git(r, "add", ".")
    git(r, "commit", "-q", "-m", "init")
    gs(r, "create", "-m", "init")
    return Path(os.path.realpath(r))


def _unsaved(tree: Path, watcher: Watcher) -> int:  # noqa: F811
    (tree / ".env").write_text("SECRET=only here\n")
    (tree / "base").write_text("edited\n")
    wait_for(
        lambda: [s for s in watch_snaps(tree) if ".env" in paths_in(s)],
        what="a watch snapshot holding .env",
    )
    return settled(watcher, tree).id


def test_a_flat_linked_worktree_removed_whole_is_reported(
    tmp_path: Path,
    store_dir: Path,
    watcher: Watcher,  # noqa: F811
) -> None:
    main = _flat(tmp_path / "main")
    linked = Path(os.path.realpath(tmp_path)) / "linked"
    git(main, "worktree", "add", "-q", str(linked), "-b", "side")
    add(store_dir, linked)
    watcher.start()
    watcher.watching(linked)
    held = _unsaved(linked, watcher)
    git(main, "worktree", "remove", "--force", str(linked))
    assert not linked.exists()
    (entry,) = wait_for(
        lambda: json.loads(gs(main, "losses", "--json")), what="the loss entry in main"
    )
    assert entry["snapshot"] == held and entry["removed_worktree"] == str(linked)
    assert sorted(x["path"] for x in entry["lost"]) == [".env", "base"]


def test_a_flat_repository_deleted_whole_is_reported(
    tmp_path: Path,
    store_dir: Path,
    watcher: Watcher,  # noqa: F811
) -> None:
    repo = _flat(tmp_path / "repo")
    add(store_dir, repo)
    watcher.start()
    watcher.watching(repo)
    held = _unsaved(repo, watcher)
    shutil.rmtree(repo)

    def listed() -> list[dict[str, object]]:
        ran = gs(tmp_path, "-C", str(repo), "losses", "--json", rc=None)
        if ran.rc != 0:  # nothing recorded for it yet: "no such directory"
            return []
        return [e for e in json.loads(ran) if e["snapshot"] == held]

    (entry,) = wait_for(listed, what="the deleted repository's loss entry")
    lost = entry["lost"]
    assert isinstance(lost, list)
    assert sorted(x["path"] for x in lost) == [".env", ".gitignore", "base"]
