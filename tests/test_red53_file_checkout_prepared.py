"""An edit made less than snapshot.watchQuiet before `git checkout -- FILE` (or `git checkout
-f` to the commit HEAD is at), the watcher running (red53 F1).

post-checkout commits the watcher's prepared tree to name what git destroyed (RED44 F6), but
findlosses._prepared_before returned at once for a file checkout and for a checkout to the
same commit (its list of what git wrote came from the commits HEAD moved between): the
discarded edit, which the prepared tree held, was named only as "an earlier version" from
the snapshot before, and its bytes were in no snapshot. Now what git wrote there is what
changed since that snapshot, written while git ran, holding a version git has."""

from __future__ import annotations

from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from hookhelpers import by_id
from hookhelpers import put_venv_on_path
from hookhelpers import restore
from hookhelpers import snaps
from prephelpers import MARKS
from prephelpers import OLD
from prephelpers import past_a_tick
from prephelpers import prepared_with
from prephelpers import watched_repo
from test_watch_daemon import Watcher
from test_watch_daemon import watcher  # noqa: F401  (the fixture)

from git_snapshot.watch import dirtyset

pytestmark = MARKS

EDIT = b"a\nmy edit, made just before the checkout, in no snapshot\n"


@pytest.fixture
def w(watcher: Watcher, monkeypatch: pytest.MonkeyPatch) -> Watcher:  # noqa: F811
    put_venv_on_path(monkeypatch)
    return watcher


def _discarded_edit_named(r: Path, store_dir: Path, command: tuple[str, ...]) -> None:
    """EDIT written to a.txt and prepared, then discarded by git *command*: named once, from
    the prepared tree, and its restore gives EDIT back."""
    (r / "a.txt").write_bytes(EDIT)
    prepared_with(store_dir, r, "a.txt", EDIT)
    ran = git(r, *command)
    assert (r / "a.txt").read_bytes() == b"a\n"
    (rep,) = ran.reports
    assert rep.names == "a.txt", ran.err
    assert by_id(r, rep.snap)["trigger"] == "prepared", ran.err
    restore(r, rep)
    assert (r / "a.txt").read_bytes() == EDIT


@pytest.mark.parametrize(
    "command",
    [("checkout", "--", "a.txt"), ("checkout", "--", "."), ("checkout", "-f", "main")],
)
def test_an_edit_discarded_by_a_file_checkout_is_named_from_the_prepared_tree(
    tmp_path: Path, store_dir: Path, w: Watcher, command: tuple[str, ...]
) -> None:
    r = watched_repo(tmp_path, store_dir, w, prepare=0.1)
    assert (r / "x.log").read_bytes() == OLD
    _discarded_edit_named(r, store_dir, command)


def test_an_edit_set_back_before_the_checkout_is_not_named(
    tmp_path: Path, store_dir: Path, w: Watcher
) -> None:
    """The prepared tree's edit, set back by the user (to HEAD's bytes) before git began: the
    checkout destroyed nothing, no report (the tree is set aside: prep.changed_since)."""
    r = watched_repo(tmp_path, store_dir, w, prepare=0.1)
    (r / "a.txt").write_bytes(EDIT)
    prepared_with(store_dir, r, "a.txt", EDIT)
    (r / "a.txt").write_bytes(b"a\n")
    assert dirtyset.sync(str(store_dir), str(r)), "the daemon did not sync"
    past_a_tick()
    ran = git(r, "checkout", "--", ".")
    assert ran.reports == [], ran.err
    assert "prepared" not in [s["trigger"] for s in snaps(r)]


@pytest.mark.parametrize("command", [("checkout", "--", "a.txt"), ("checkout", "-f", "main")])
def test_a_tracked_file_made_again_since_the_snapshot_before(
    tmp_path: Path, store_dir: Path, w: Watcher, command: tuple[str, ...]
) -> None:
    """A tracked file the user deleted (a snapshot taken so), then made again with an edit less
    than snapshot.watchQuiet before `git checkout -- FILE` or `git checkout -f` to HEAD's commit,
    the watcher running (review of b890dfbf, red53 F1's fix).

    findlosses._in_place_wrote asked only the paths the snapshot before held (diff_trees' c.old):
    the made-again file, which only the prepared tree held, was named by nothing and its bytes
    were in no snapshot. Now every path the tree changed since its base is asked."""
    r = watched_repo(tmp_path, store_dir, w, prepare=0.1)
    (r / "a.txt").unlink()
    gs(r, "create", "-m", "a.txt deleted")
    _discarded_edit_named(r, store_dir, command)
