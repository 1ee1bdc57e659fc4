"""RED30 (session 30), red team C's F16 and F1.

F16: a whole-tree restore wrote the snapshot's copy of a nested repository's git directory
(vendor/lib/.git: its refs, reflog, index, HEAD) over the one there: a commit made there since
the snapshot was in no ref nor reflog any more (only `git fsck` found it, until gc). DESIGN:
"Restore never writes into `.git`". Now any `.git` below the top that is there is left as it
is, as the top one is (not written, replaced nor deleted, not even with --delete), and one line
names it with the command that gets the snapshot's copy elsewhere; one that is gone (rm -rf
vendor/lib) is restored whole, the snapshot being its only copy. A linked worktree of the
repository lying in the worktree (`git worktree add inner`) is another worktree, with snapshots
of its own: a whole restore leaves it as it is too (and says so); named, it is restored.

F1: after a hand-resolved (or skipped) rebase conflict, post-rewrite reported the conflict-
marker file git wrote (held by the snapshot taken while the rebase stood at the conflict) as
"uncommitted edits" the rebase destroyed, with a restore command that put the markers back.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from clihelpers import run
from conftest import init_repo
from hookhelpers import install
from hookhelpers import put_venv_on_path

from git_snapshot.store.restore_plan import PARALLEL_MIN


def _outer(tmp_path: Path) -> tuple[Path, Path]:
    """The F16 set-up: an outer repository ignoring vendor/, a nested one at vendor/lib with
    commit c1, a snapshot (1) of the outer worktree, then commit c2 in the nested one."""
    top = init_repo(tmp_path / "outer")
    (top / ".gitignore").write_text("vendor/\n")
    git(top, "add", ".")
    git(top, "commit", "-qm", "o")
    lib = top / "vendor" / "lib"
    lib.mkdir(parents=True)
    git(lib, "init", "-q")
    (lib / "f").write_text("v1\n")
    git(lib, "add", "f")
    git(lib, "commit", "-qm", "c1")
    (top / ".env").write_text("SECRET=1\n")
    gs(top, "-m", "outer")
    (lib / "f").write_text("v2\n")
    git(lib, "commit", "-qam", "c2")
    return top, lib


def _git_dir_state(lib: Path) -> dict[str, bytes]:
    """Every file of the nested repository's git directory and what it holds."""
    gd = lib / ".git"
    return {str(p.relative_to(gd)): p.read_bytes() for p in sorted(gd.rglob("*")) if p.is_file()}


def test_whole_restore_leaves_a_nested_repositorys_git_dir_as_it_is(tmp_path: Path) -> None:
    top, lib = _outer(tmp_path)
    c2 = git(lib, "rev-parse", "HEAD").strip()
    before = _git_dir_state(lib)
    (top / ".env").unlink()
    dry = gs(top, "restore", "1", "--dry-run")
    assert ".git/" not in dry.out, dry.out  # no "would update vendor/lib/.git/index"
    assert "vendor/lib/.git" in dry.out, dry.out
    ran = gs(top, "restore", "1")
    assert (top / ".env").read_text() == "SECRET=1\n"
    assert _git_dir_state(lib) == before  # refs, reflog, index, HEAD: as they were
    assert git(lib, "rev-parse", "HEAD").strip() == c2
    # its worktree's files are the snapshot's, as the top's are (c2 holds v2)
    assert (lib / "f").read_text() == "v1\n"
    said = [ln for ln in ran.out.splitlines() if "vendor/lib/.git" in ln]
    assert len(said) == 1, ran.out
    assert "git snapshot restore 1 vendor/lib/.git --to DIR" in said[0], said
    assert "/.git/" not in ran.out, ran.out
    # the command it names works as printed (DIR: a new folder)
    got = gs(top, "restore", "1", "vendor/lib/.git", "--to", str(tmp_path / "copy"))
    assert got.rc == 0
    copy = tmp_path / "copy" / "vendor" / "lib" / ".git"
    assert (copy / "HEAD").is_file()
    assert _git_dir_state(lib) == before


def test_a_big_restore_leaves_it_too(tmp_path: Path) -> None:
    """A snapshot of PARALLEL_MIN files or more is written by writer processes (and planned by
    two): the nested .git is left as it is there too, and restored whole where it is gone."""
    top = init_repo(tmp_path / "outer")
    (top / ".gitignore").write_text("vendor/\n")
    git(top, "add", ".")
    git(top, "commit", "-qm", "o")
    lib = top / "vendor" / "lib"
    (lib / "data").mkdir(parents=True)
    for i in range(PARALLEL_MIN + 100):
        (lib / "data" / f"{i}.txt").write_text(f"{i}\n")
    git(lib, "init", "-q")
    git(lib, "add", ".")
    git(lib, "commit", "-qm", "c1")
    gs(top, "-m", "outer")
    (lib / "data" / "0.txt").write_text("edited\n")
    git(lib, "commit", "-qam", "c2")
    before = _git_dir_state(lib)
    shutil.rmtree(lib / "data")
    ran = gs(top, "restore", "1")
    assert "left vendor/lib/.git as it is" in ran.out, ran.out
    assert _git_dir_state(lib) == before
    assert (lib / "data" / "0.txt").read_text() == "0\n"
    assert len(os.listdir(lib / "data")) == PARALLEL_MIN + 100
    shutil.rmtree(top / "vendor")
    gs(top, "restore", "1")
    assert git(lib, "log", "--format=%s").strip() == "c1"


def test_a_nested_repository_gone_entirely_is_restored_whole(tmp_path: Path) -> None:
    top, lib = _outer(tmp_path)
    c1 = git(lib, "rev-parse", "HEAD~1").strip()
    shutil.rmtree(top / "vendor")
    ran = gs(top, "restore", "1")
    assert "vendor/lib/.git" not in ran.out, ran.out  # nothing left alone: it was not there
    assert git(lib, "rev-parse", "HEAD").strip() == c1
    assert git(lib, "status", "--porcelain").strip() == ""


def test_a_named_path_in_a_nested_git_dir_that_is_there_is_refused(tmp_path: Path) -> None:
    top, lib = _outer(tmp_path)
    before = _git_dir_state(lib)
    for name in ("vendor/lib/.git/refs/heads/main", "vendor/lib/.git"):
        ran = gs(top, "restore", "1", name, rc=1)
        assert "refusing to restore" in ran.err and "--to DIR" in ran.err, ran.err
    assert _git_dir_state(lib) == before
    assert "pre-restore" not in gs(top, "list").out  # refused before the pre-restore snapshot
    assert _git_dir_state(lib) == before


def test_delete_never_removes_a_nested_git_dir(tmp_path: Path) -> None:
    """--delete takes out what the snapshot lacks: a repository made since keeps its .git
    (its objects, refs), and one whose folder is in the way of a file keeps it too."""
    top, lib = _outer(tmp_path)
    later = top / "vendor" / "later"
    later.mkdir()
    git(later, "init", "-q")
    (later / "g").write_text("g\n")
    git(later, "add", "g")
    git(later, "commit", "-qm", "g")
    head = git(later, "rev-parse", "HEAD").strip()
    before = _git_dir_state(lib)
    dry = gs(top, "restore", "1", "--delete", "--dry-run")
    ran = gs(top, "restore", "1", "--delete")
    for out in (dry.out, ran.out):
        assert "delete vendor/later/g\n" in out, out
        assert "delete vendor/later/.git" not in out, out
        assert "kept vendor/later/.git, which the snapshot does not hold" in out, out
        assert "left vendor/lib/.git as it is" in out, out
    assert not (later / "g").exists()
    assert git(later, "rev-parse", "HEAD").strip() == head
    assert git(later, "cat-file", "-t", head).strip() == "commit"
    assert _git_dir_state(lib) == before


def test_a_linked_worktree_inside_is_left_to_its_own_snapshots(tmp_path: Path) -> None:
    top = init_repo(tmp_path / "main")
    (top / "f").write_text("base\n")
    git(top, "add", "f")
    git(top, "commit", "-qm", "base")
    git(top, "worktree", "add", "-q", "inner", "-b", "b")
    inner = top / "inner"
    gs(top, "-m", "main")
    (inner / "f").write_text("inner's own edit\n")
    (top / "f").write_text("main's edit\n")
    dry = gs(top, "restore", "1", "--dry-run")
    assert "inner/f" not in dry.out, dry.out
    ran = gs(top, "restore", "1")
    assert (top / "f").read_text() == "base\n"
    assert (inner / "f").read_text() == "inner's own edit\n"
    said = [ln for ln in ran.out.splitlines() if "inner" in ln]
    assert len(said) == 1 and "worktree" in said[0], ran.out
    assert git(inner, "status", "--porcelain").strip() == "M f"
    # named, it is restored (the pre-restore snapshot holds what was there)
    gs(top, "restore", "1", "inner/f")
    assert (inner / "f").read_text() == "base\n"
    assert os.path.isfile(inner / ".git")


# -- F1: the conflict a rebase stopped on ----------------------------------------------------


def _stopped_rebase(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, second: bool, watch: bool = False
) -> Path:
    """A rebase of `side` onto `main` stopped on a conflict in f (hooks installed), and the
    snapshot the watcher takes 3 s after the stop (*watch*: taken by its worker, else by hand):
    it holds the conflict-marker file git wrote, and g as the commit being picked adds it
    (*second*: a next commit of side changes g)."""
    put_venv_on_path(monkeypatch)
    r = init_repo(tmp_path / "rb")
    (r / "f").write_text("base\n")
    git(r, "add", "f")
    git(r, "commit", "-qm", "base")
    git(r, "checkout", "-qb", "side")
    (r / "f").write_text("side\n")
    (r / "g").write_text("side's g\n")
    git(r, "add", "f", "g")
    git(r, "commit", "-qm", "side")
    if second:
        (r / "g").write_text("side's g, again\n")
        git(r, "commit", "-qam", "side 2")
    git(r, "checkout", "-q", "main")
    (r / "f").write_text("main\n")
    git(r, "commit", "-qam", "main")
    install(r)
    git(r, "checkout", "-q", "side")
    assert git(r, "rebase", "main", rc=None).rc != 0
    assert "<<<<<<<" in (r / "f").read_text()
    if watch:
        took = run(r, sys.executable, "-m", "git_snapshot.watch.take", str(r))
        assert json.loads(took.out)["new"], took.out
    else:
        gs(r, "-m", "mid-rebase")
    return r


@pytest.mark.parametrize("how", ["continue", "skip"])
@pytest.mark.parametrize("watch", [False, True])
def test_a_resolved_rebase_conflict_is_no_loss(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str, watch: bool
) -> None:
    r = _stopped_rebase(tmp_path, monkeypatch, second=how == "continue", watch=watch)
    if how == "continue":
        (r / "f").write_text("resolved\n")
        git(r, "add", "f")
    ran = git(r, "rebase", f"--{how}", GIT_EDITOR="true")
    assert not ran.reports and "destroyed" not in ran.err, ran.err
    assert (r / "f").read_text() == ("resolved\n" if how == "continue" else "main\n")
    assert "nothing" in gs(r, "losses").out or not gs(r, "losses").out.strip()


def test_a_resolution_skip_throws_away_is_still_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The user's own resolution (saved while the rebase stood at the conflict) that `rebase
    --skip` writes over is the user's: still reported, with the command that gives it back."""
    r = _stopped_rebase(tmp_path, monkeypatch, second=False)
    (r / "f").write_text("my resolution, never committed\n")
    gs(r, "-m", "resolving")
    ran = git(r, "rebase", "--skip")
    reports = ran.reports
    assert len(reports) == 1 and reports[0].names == "f", ran.err
    assert (r / "f").read_text() == "main\n"
    gs(r, *reports[0].command[2:])
    assert (r / "f").read_text() == "my resolution, never committed\n"


@pytest.mark.parametrize("watch", [False, True])
def test_an_edit_amended_at_an_edit_stop_is_no_loss(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, watch: bool
) -> None:
    """`rebase -i` stops to edit A; the user edits f (a snapshot takes it: the watcher's, 3 s
    later), amends it into A and continues; the replay of B rewrites f. The edit is in the
    amended A, which HEAD reached: post-rewrite named it destroyed, and its restore command
    would have taken B's change out of f (RED30, red team C F1c)."""
    put_venv_on_path(monkeypatch)
    r = init_repo(tmp_path / "ed")
    lines = [f"l{i}" for i in range(1, 7)]
    (r / "f").write_text("\n".join(lines) + "\n")
    git(r, "add", "f")
    git(r, "commit", "-qm", "base")
    (r / "f").write_text((r / "f").read_text().replace("l1\n", "l1A\n"))
    git(r, "commit", "-qam", "A")
    (r / "f").write_text((r / "f").read_text().replace("l6\n", "l6B\n"))
    git(r, "commit", "-qam", "B")
    install(r)
    git(r, "rebase", "-i", "HEAD~2", GIT_SEQUENCE_EDITOR="sed -i '1s/^pick/edit/'")
    (r / "f").write_text((r / "f").read_text().replace("l3\n", "l3-edited\n"))
    if watch:
        took = run(r, sys.executable, "-m", "git_snapshot.watch.take", str(r))
        assert json.loads(took.out)["new"], took.out
    else:
        gs(r, "-m", "at the edit stop")
    git(r, "commit", "-q", "--amend", "-a", "--no-edit")
    ran = git(r, "rebase", "--continue", GIT_EDITOR="true")
    assert not ran.reports and "destroyed" not in ran.err, ran.err
    assert (r / "f").read_text() == "l1A\nl2\nl3-edited\nl4\nl5\nl6B\n"
