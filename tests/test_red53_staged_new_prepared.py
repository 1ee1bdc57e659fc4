"""A new file staged (`git add`) less than snapshot.watchQuiet before `git checkout -f B` (or
to HEAD's commit), the watcher running (red53 F2).

git deletes a path the index holds that the target commit lacks. The watcher's worker refused
to prepare a tree whose git labels (tracked, ignored) differed from its base's, and a `git
add` changes them: post-checkout had no prepared tree to commit and the staged file, in no
snapshot, was named by nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from clihelpers import git
from hookhelpers import by_id
from hookhelpers import put_venv_on_path
from hookhelpers import restore
from hookhelpers import snaps
from prephelpers import MARKS
from prephelpers import past_a_tick
from prephelpers import prepared_with
from prephelpers import watched_repo
from test_watch_daemon import Watcher
from test_watch_daemon import watcher  # noqa: F401  (the fixture)

from git_snapshot.store import Store
from git_snapshot.watch import dirtyset
from git_snapshot.watch import prep
from git_snapshot.watch import take
from git_snapshot.worktree import TRACKED
from git_snapshot.worktree import UNTRACKED

pytestmark = MARKS

NEW = b"new work, staged just before the forced checkout, in no snapshot\n"


@pytest.fixture
def w(watcher: Watcher, monkeypatch: pytest.MonkeyPatch) -> Watcher:  # noqa: F811
    put_venv_on_path(monkeypatch)
    return watcher


@pytest.mark.parametrize("target", ["b", "main"])
def test_a_staged_new_file_a_forced_checkout_deletes_is_named_from_the_prepared_tree(
    tmp_path: Path, store_dir: Path, w: Watcher, target: str
) -> None:
    r = watched_repo(tmp_path, store_dir, w, prepare=0.1, b_tracks=("b.txt",))
    (r / "new.txt").write_bytes(NEW)
    git(r, "add", "new.txt")
    prepared_with(store_dir, r, "new.txt", NEW)
    ran = git(r, "checkout", "-f", target)
    assert not (r / "new.txt").exists()
    (rep,) = ran.reports
    assert rep.names == "new.txt", ran.err
    assert by_id(r, rep.snap)["trigger"] == "prepared", ran.err
    restore(r, rep)
    assert (r / "new.txt").read_bytes() == NEW


@pytest.mark.parametrize("how", ["deleted", "unstaged"])
def test_a_staged_new_file_the_user_took_back_before_the_checkout_is_not_named(
    tmp_path: Path, store_dir: Path, w: Watcher, how: str
) -> None:
    """The prepared tree's staged file, deleted (git rm -f) or unstaged (git rm --cached) and
    then removed by the user before git began: the checkout destroyed nothing, no report
    (b tracks b.txt alone: it overwrites nothing of the user's)."""
    r = watched_repo(tmp_path, store_dir, w, prepare=0.1, b_tracks=("b.txt",))
    (r / "new.txt").write_bytes(NEW)
    git(r, "add", "new.txt")
    prepared_with(store_dir, r, "new.txt", NEW)
    if how == "deleted":
        git(r, "rm", "-q", "-f", "new.txt")
    else:
        git(r, "rm", "-q", "--cached", "new.txt")
        (r / "new.txt").unlink()
    assert dirtyset.sync(str(store_dir), str(r)), "the daemon did not sync"
    past_a_tick()
    ran = git(r, "checkout", "-f", "b")
    assert ran.reports == [], ran.err
    assert "prepared" not in [s["trigger"] for s in snaps(r)]


def test_a_file_unstaged_without_a_write_is_never_prepared_with_the_base_s_label(
    tmp_path: Path, store_dir: Path, w: Watcher
) -> None:
    """git's tracked answer changed for a file nothing marked (`git rm --cached a.txt`): the
    rebuild would keep the base's entry, labelled tracked; the preparation is refused (or its
    tree labels it untracked), never a tree with the base's label (take._retrack)."""
    r = watched_repo(tmp_path, store_dir, w, prepare=0.1, b_tracks=("b.txt",))
    git(r, "rm", "-q", "--cached", "a.txt")
    (r / "new.txt").write_bytes(NEW)
    git(r, "add", "new.txt")
    assert dirtyset.sync(str(store_dir), str(r)), "the daemon did not sync"
    got = take.prepare(str(r))
    begun = dirtyset.begin(str(store_dir), str(r))
    p = None if begun is None else prep.prepared(str(store_dir), str(r), begun)
    if p is not None:
        with Store(store_dir) as store:
            labels = {path: e.label for path, e in store.walk(p.root)}
        assert labels.get(b"a.txt") == UNTRACKED, got
        assert labels.get(b"new.txt") == TRACKED, got
    else:
        assert "labels" in str(got.get("why")), got
