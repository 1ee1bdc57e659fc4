"""``git snapshot run`` snapshots what CMD destroys beyond the current worktree, with real git."""

from __future__ import annotations

from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from hookhelpers import put_venv_on_path
from hookhelpers import saved


@pytest.fixture(autouse=True)
def _path(monkeypatch: pytest.MonkeyPatch) -> None:
    put_venv_on_path(monkeypatch)


@pytest.fixture
def wt(repo: Path, tmp_path: Path) -> Path:
    """A linked worktree with an untracked and an ignored file that exist nowhere else."""
    w = tmp_path / "wt"
    git(repo, "worktree", "add", "-q", str(w), "-b", "wt")
    (w / "notes.txt").write_bytes(b"only here\n")
    (w / ".gitignore").write_text(".env\n")
    (w / ".env").write_bytes(b"SECRET=1\n")
    return w


def _restore_to(cwd: Path, line: str, tmp_path: Path) -> Path:
    """Run the restore command a guard line printed (with its --to) and return the target."""
    cmd = line.split("bring it back with: ")[1].rstrip(")")
    words = cmd.split()
    assert words[:3] == ["git", "snapshot", "restore"] and words[4] == "--to"
    dest = tmp_path / "back"
    gs(cwd, "restore", words[3], "--to", str(dest))
    return dest


def test_worktree_remove_snapshots_the_removed_worktree(
    repo: Path, wt: Path, tmp_path: Path
) -> None:
    ran = gs(repo, "run", "--", "git", "worktree", "remove", "--force", "../wt")
    assert not wt.exists()
    (line,) = [ln for ln in ran.err.splitlines() if "of the worktree" in ln]
    assert f"of the worktree {wt}" in line
    dest = _restore_to(repo, line, tmp_path)
    assert (dest / "notes.txt").read_bytes() == b"only here\n"
    assert (dest / ".env").read_bytes() == b"SECRET=1\n"


def test_worktree_remove_from_inside_it_exits_with_the_commands_status(
    repo: Path, wt: Path, tmp_path: Path
) -> None:
    ran = gs(wt, "run", "--", "git", "worktree", "remove", "--force", str(wt))
    assert ran.rc == 0 and not wt.exists()
    snap = int(ran.err.split("snapshot ")[1].split()[0])
    files = saved(repo, snap, tmp_path)
    assert files["notes.txt"] == b"only here\n" and files[".env"] == b"SECRET=1\n"
    assert f"the worktree {wt} is gone; its files are in snapshot {snap}" in ran.err


def test_stash_drop_saves_the_stash(repo: Path, tmp_path: Path) -> None:
    (repo / "README").write_bytes(b"stashed edit\n")
    (repo / "new.txt").write_bytes(b"stashed untracked\n")
    git(repo, "stash", "push", "-q", "-u")
    assert (repo / "README").read_bytes() == b"hello\n"
    ran = gs(repo, "run", "--", "git", "stash", "drop")
    assert git(repo, "stash", "list").out == ""
    (line,) = [ln for ln in ran.err.splitlines() if "holds stash@{0}" in ln]
    snap = int(line.split()[2])
    files = saved(repo, snap, tmp_path)
    assert files["README"] == b"stashed edit\n"
    assert files["new.txt"] == b"stashed untracked\n"


def test_stash_clear_saves_every_entry(repo: Path, tmp_path: Path) -> None:
    for text in (b"one\n", b"two\n"):
        (repo / "README").write_bytes(text)
        git(repo, "stash", "push", "-q")
    ran = gs(repo, "run", "--", "git", "stash", "clear")
    lines = [ln for ln in ran.err.splitlines() if " holds stash@{" in ln]
    assert len(lines) == 2
    got = {saved(repo, int(ln.split()[2]), tmp_path)["README"] for ln in lines}
    assert got == {b"one\n", b"two\n"}


def test_run_keeps_a_failing_commands_status_and_never_adds_its_own(repo: Path) -> None:
    assert gs(repo, "run", "--", "git", "stash", "drop", rc=None).rc != 0  # no stash: git fails
    assert gs(repo, "run", "--", "true").rc == 0
