"""RED33 (red team V, findings 1 and 2): linked worktrees moved into each other's places.

V1a: `git worktree move ../a ../old-a; git worktree move ../b ../a`: B (now at ../a) took A's
snapshots for its own (they were said taken at ../a), so a checkout in B that overwrote its
.env named A's snapshot, `undo` wrote A's secret into B, and A lost its newest snapshot and
its next loss went unreported. Two worktrees swapping places did the same.

V1b: `git worktree move ../b ../old` onto the path of a worktree removed earlier: B took the
removed one's snapshots, and `undo` in B wrote the removed one's secret.

V2: a worktree moved away, then a new one added at its old place before the moved one ran
anything of ours: the moved one's loss log was put aside as the new one's predecessor's.

Each snapshot of a linked worktree now names the worktree that took it (its admin dir's
identity), and the first command in a worktree at a new place lets every worktree that moved
since it was last seen take its own snapshots and log along first.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from hookhelpers import commit
from hookhelpers import install
from hookhelpers import put_venv_on_path
from hookhelpers import write


@pytest.fixture
def hooked(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """.env ignored on main, tracked on b (as FROM BRANCH B)."""
    put_venv_on_path(monkeypatch)
    commit(repo, ".gitignore", b".env\n*.log\n")
    commit(repo, "a.txt", b"a\n")
    git(repo, "checkout", "-q", "-b", "b")
    commit(repo, ".env", b"FROM BRANCH B\n", force=True)
    git(repo, "checkout", "-q", "main")
    install(repo)
    return repo


def _ids(wt: Path) -> list[int]:
    return [s["id"] for s in json.loads(gs(wt, "list", "--json"))]


def _lost(wt: Path) -> list[list[str]]:
    return [[x["path"] for x in e["lost"]] for e in json.loads(gs(wt, "losses", "--json"))]


def _saved(wt: Path, text: bytes) -> int:
    write(wt / ".env", text)
    return int(json.loads(gs(wt, "create", "--json"))["id"])


def _two(r: Path) -> tuple[Path, Path, int, int]:
    a, b = r.parent / "a", r.parent / "b"
    git(r, "worktree", "add", "-q", str(a), "-b", "wa")
    git(r, "worktree", "add", "-q", str(b), "-b", "wb")
    nb = _saved(b, b"B-SECRET\n")
    na = _saved(a, b"A-SECRET\n")
    return a, b, na, nb


def _checkout_names(wt: Path, n: int, text: bytes, *args: str) -> None:
    """A checkout overwriting .env is reported against snapshot *n*; undo puts *text* back."""
    ran = git(wt, "checkout", "-q", *args, "b")
    (rep,) = ran.reports
    assert (rep.names, rep.snap) == (".env", n), ran.said
    gs(wt, "undo")
    assert (wt / ".env").read_bytes() == text


def test_moved_into_another_live_worktrees_place(hooked: Path) -> None:
    r = hooked
    a, b, na, nb = _two(r)
    old_a = r.parent / "old-a"
    git(r, "worktree", "move", str(a), str(old_a))
    git(r, "worktree", "move", str(b), str(a))  # B now at ../a
    assert nb in _ids(a) and na not in _ids(a)
    _checkout_names(a, nb, b"B-SECRET\n")
    assert na in _ids(old_a) and nb not in _ids(old_a)
    _checkout_names(old_a, na, b"A-SECRET\n", "--detach")


def test_moved_into_another_worktrees_place_which_runs_first(hooked: Path) -> None:
    """The same, A (moved away first) running the first command after the moves."""
    r = hooked
    a, b, na, nb = _two(r)
    old_a = r.parent / "old-a"
    git(r, "worktree", "move", str(a), str(old_a))
    git(r, "worktree", "move", str(b), str(a))
    _checkout_names(old_a, na, b"A-SECRET\n", "--detach")
    _checkout_names(a, nb, b"B-SECRET\n")


def test_two_worktrees_swap_places(hooked: Path) -> None:
    r = hooked
    a, b, na, nb = _two(r)
    tmp = r.parent / "tmp"
    git(r, "worktree", "move", str(a), str(tmp))
    git(r, "worktree", "move", str(b), str(a))
    git(r, "worktree", "move", str(tmp), str(b))  # A at ../b, B at ../a
    assert nb in _ids(a) and na not in _ids(a)
    assert na in _ids(b) and nb not in _ids(b)
    _checkout_names(a, nb, b"B-SECRET\n")
    _checkout_names(b, na, b"A-SECRET\n", "--detach")


def test_moved_onto_a_removed_worktrees_path(hooked: Path) -> None:
    r = hooked
    b, old = r.parent / "b", r.parent / "old"
    git(r, "worktree", "add", "-q", str(b), "-b", "wb")
    git(r, "worktree", "add", "-q", str(old), "-b", "wold")
    nb = _saved(b, b"B-SECRET\n")
    _saved(old, b"OLD-SECRET\n")
    ran = gs(r, "run", "--", "git", "worktree", "remove", "--force", str(old))
    assert "removed the worktree" in ran.err, ran.err
    git(r, "worktree", "move", str(b), str(old))
    assert _lost(old) == []  # the removal's report is not B's
    _checkout_names(old, nb, b"B-SECRET\n")
    assert _lost(old) == [[".env"]]


def test_a_moved_worktrees_log_follows_it_past_a_new_one_at_its_old_place(hooked: Path) -> None:
    r = hooked
    git(r, "branch", "other")
    wt1, wt2 = r.parent / "wt1", r.parent / "wt2"
    git(r, "worktree", "add", "-q", str(wt1), "-b", "w")
    write(wt1 / "build.log", b"my build log\n")
    gs(wt1, "run", "--", "git", "clean", "-fdX")
    assert _lost(wt1) == [["build.log"]]
    git(r, "worktree", "move", str(wt1), str(wt2))
    git(r, "worktree", "add", "-q", str(wt1), "other")  # its hook runs first
    assert _lost(wt1) == []
    assert _lost(wt2) == [["build.log"]]
    gs(wt2, "undo")
    assert (wt2 / "build.log").read_bytes() == b"my build log\n"
