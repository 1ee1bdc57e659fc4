"""review41 RG, of 57b38d3 (red41R2 S1 without run): a missing store is looked for in the
stash entries of the worktrees around its path before one is made. That look-up fed git
cat-file a text that Python encoded as UTF-8: a store path with a byte that is not UTF-8
(GIT_SNAPSHOT_STORE, or a HOME so named) raised UnicodeEncodeError in every hook while the
store was missing, so the first snapshot never came, and git's merge was stopped ("could not
snapshot before the merge ... internal error"), although no stash entry held any store."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from hookhelpers import install
from hookhelpers import topic_in_linked_worktree

ODD = os.fsdecode(b"st\xffore")  # a folder name that is not UTF-8


@pytest.fixture
def stash_and_odd_store(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """*repo* with hooks, a stash entry (a tracked edit, no store in it), and its store at
    repo/st\\xffore, not made yet."""
    monkeypatch.setenv("GIT_SNAPSHOT_STORE", os.path.join(repo, ODD))
    install(repo)
    (repo / "README").write_text("edited\n")
    git(repo, "stash", "-q")
    assert not os.path.lexists(os.path.join(repo, ODD))
    return repo


def test_a_missing_store_with_a_non_utf8_path_is_made(stash_and_odd_store: Path) -> None:
    repo = stash_and_odd_store
    git(repo, "checkout", "-q", "-b", "side")
    (repo / "side.txt").write_text("side\n")
    git(repo, "add", "side.txt")
    git(repo, "commit", "-q", "-m", "side")
    git(repo, "checkout", "-q", "-")
    ran = git(repo, "merge", "-q", "--no-ff", "-m", "merge side", "side", rc=None)
    assert ran.rc == 0 and "internal error" not in ran.err, ran.err
    assert (repo / "side.txt").exists()
    assert os.path.isfile(os.path.join(repo, ODD, "index.sqlite")), ran.err


def test_a_non_utf8_store_taken_by_a_stash_is_found(stash_and_odd_store: Path) -> None:
    repo = stash_and_odd_store
    gs(repo, "-m", "first")  # the store is made, then taken whole by a plain stash -u
    git(repo, "stash", "-u", "-q")
    assert not os.path.lexists(os.path.join(repo, ODD))
    ran = git(repo, "checkout", "-q", "-b", "next", rc=None)
    assert "internal error" not in ran.err and "stash pop stash@{0}" in ran.err, ran.err
    assert not os.path.lexists(os.path.join(repo, ODD)), ran.err
    git(repo, "stash", "pop", "-q")
    assert [ln.split()[-1] for ln in gs(repo, "list").out.splitlines()[1:]] == ["first"]


@pytest.mark.parametrize("how", ["env", "option"])
def test_run_git_stash_u_under_literal_pathspecs_is_refused(
    repo: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    """Of d315281 (red41R2 S1 under run): with literal pathspecs, the exclude pathspec run
    adds for the store is a path that matches nothing, and git said "No local changes to
    save" (exit 0) and stashed nothing, while run said the store was kept out. Refused in one
    line now, as git stash save -u is: nothing run, the files in place."""
    monkeypatch.setenv("GIT_SNAPSHOT_STORE", str(repo / ".snapstore"))
    install(repo)
    gs(repo, "-m", "first")
    (repo / "README").write_text("edited\n")
    (repo / "notes.txt").write_text("untracked notes\n")
    if how == "env":
        monkeypatch.setenv("GIT_LITERAL_PATHSPECS", "1")
        argv = ["git", "stash", "-u"]
    else:
        argv = ["git", "--literal-pathspecs", "stash", "-u"]
    ran = gs(repo, "run", "--", *argv, rc=None)
    assert ran.rc != 0 and any("refusing to run git stash" in ln for ln in ran.ours), ran.err
    assert "No local changes" not in ran.err, ran.err
    assert (repo / "notes.txt").exists() and (repo / "README").read_text() == "edited\n"
    assert (repo / ".snapstore" / "index.sqlite").is_file()


def test_worktree_remove_a_touched_file_is_not_changed_on_disk(repo: Path) -> None:
    """Of 0e1007a (red41R2 F8): the guard of ``run -- git worktree remove`` asked git
    diff-files which files differ from the index, and diff-files, refreshing nothing, names a
    file whose stat data is stale (touched by an editor or a build, rewritten with the same
    bytes, or racily clean). An autostashed b.txt merely touched during the stopped rebase was
    then said "changed on disk since": the main snapshot (the one undo and the printed restore
    write back) held the rebase's b.txt, not the autostash's edit; and a staged c.txt equal to
    its file was saved and named among "its staged versions". git ls-files -m compares the
    bytes where the stat data differs."""
    wt = topic_in_linked_worktree(repo, {"a.txt": "base\n", "b.txt": "b\n", "c.txt": "c\n"})
    (wt / "b.txt").write_text("MY DIRTY EDIT\n")
    git(wt, "rebase", "--autostash", "main", rc=None)
    assert (wt / "b.txt").read_text() == "b\n"  # (the edit is in the autostash)
    (wt / "c.txt").write_text("staged\n")
    git(wt, "add", "c.txt")
    # the same bytes, other stat data: an mtime a second on, a new inode for c.txt
    st = (wt / "b.txt").stat()
    os.utime(wt / "b.txt", (st.st_atime + 1, st.st_mtime + 1))
    (wt / "c.new").write_text("staged\n")
    os.replace(wt / "c.new", wt / "c.txt")
    assert "b.txt" in git(wt, "diff-files", "--name-only").out  # (stale: the case)
    ran = gs(repo, "run", "--", "git", "worktree", "remove", "--force", "../wt")
    (line,) = [ln for ln in ran.ours if "removed the worktree" in ln]
    assert "changed on disk since" not in line and "staged versions" not in line, line
    assert "pending autostash's edits, 1 file: b.txt" in line, line
    snap = line.partition("saved in snapshot ")[2].split(";")[0].split(",")[0]
    assert gs(repo, "cat", snap, "b.txt").out == "MY DIRTY EDIT\n", line
