"""``git snapshot run`` snapshots what CMD destroys beyond the current worktree, with real git."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from clihelpers import run
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


def _paste(cwd: Path, line: str) -> Path:
    """Run the restore command a report line printed, as pasted in a shell at *cwd*; returns
    the directory it restored into."""
    cmd = line.split("restore with: ")[1]
    assert cmd.startswith("git snapshot restore ") and " --to " in cmd, line
    run(cwd, "sh", "-c", cmd)
    return (cwd / shlex.split(cmd)[-1]).resolve()


def test_worktree_remove_snapshots_the_removed_worktree(
    repo: Path, wt: Path, tmp_path: Path
) -> None:
    ran = gs(repo, "run", "--", "git", "worktree", "remove", "--force", "../wt")
    assert not wt.exists()
    (line,) = [ln for ln in ran.err.splitlines() if "removed the worktree" in ln]
    assert line.startswith("git-snapshot: git worktree remove removed the worktree ../wt: saved")
    dest = _paste(repo, line)
    assert dest == wt.resolve()
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
    assert f"the worktree {wt} is gone; its files (not its .git) are in snapshot {snap}" in ran.err


def test_stash_drop_names_what_it_dropped_and_the_restore_command(repo: Path) -> None:
    (repo / "README").write_bytes(b"stashed edit\n")
    (repo / "new.txt").write_bytes(b"stashed untracked\n")
    git(repo, "stash", "push", "-q", "-u")
    assert (repo / "README").read_bytes() == b"hello\n"
    (repo / "sub").mkdir()
    ran = gs(repo / "sub", "run", "--", "git", "stash", "drop")
    assert git(repo, "stash", "list").out == ""
    (line,) = [ln for ln in ran.err.splitlines() if "dropped stash@{0}" in ln]
    assert line.startswith(
        "git-snapshot: git stash drop dropped stash@{0} (2 files: README, new.txt): "
        "saved in snapshot "
    ), line
    assert line.endswith("--to ../../stash-0"), line  # from where the user is
    dest = _paste(repo / "sub", line)
    assert dest == (repo.parent / "stash-0").resolve()
    assert (dest / "README").read_bytes() == b"stashed edit\n"
    assert (dest / "new.txt").read_bytes() == b"stashed untracked\n"
    assert (repo / "README").read_bytes() == b"hello\n"  # the worktree is left alone


def test_stash_clear_saves_every_entry(repo: Path, tmp_path: Path) -> None:
    for text in (b"one\n", b"two\n"):
        (repo / "README").write_bytes(text)
        git(repo, "stash", "push", "-q")
    ran = gs(repo, "run", "--", "git", "stash", "clear")
    lines = [ln for ln in ran.err.splitlines() if "git stash clear dropped stash@{" in ln]
    assert len(lines) == 2
    got = {(_paste(repo, ln) / "README").read_bytes() for ln in lines}
    assert got == {b"one\n", b"two\n"}


def test_a_stash_drop_that_fails_reports_nothing_dropped(repo: Path) -> None:
    (repo / "README").write_bytes(b"stashed edit\n")
    git(repo, "stash", "push", "-q")
    ran = gs(repo, "run", "--", "git", "stash", "drop", "stash@{5}", rc=None)
    assert ran.rc != 0 and "dropped" not in ran.out + ran.err


def test_run_keeps_a_failing_commands_status_and_never_adds_its_own(repo: Path) -> None:
    assert gs(repo, "run", "--", "git", "stash", "drop", rc=None).rc != 0  # no stash: git fails
    assert gs(repo, "run", "--", "true").rc == 0


def test_a_dropped_stash_is_kept_in_losses_and_undo_brings_it_back(repo: Path) -> None:
    (repo / "README").write_bytes(b"stashed edit\n")
    git(repo, "stash", "push", "-q")
    gs(repo, "run", "--", "git", "stash", "drop")
    (entry,) = json.loads(gs(repo, "losses", "--json").out)
    assert entry["command"] == "git stash drop" and entry["lost"][0]["path"] == "stash@{0}"
    dest = repo.parent / "stash-0"
    assert not dest.exists()
    assert "would" in gs(repo, "undo", "--dry-run").out and not dest.exists()
    gs(repo, "undo")
    assert (dest / "README").read_bytes() == b"stashed edit\n"
    assert (repo / "README").read_bytes() != b"stashed edit\n"  # the worktree is not touched


def test_worktree_named_with_a_newline_gets_one_line_and_a_command_sh_reads(
    repo: Path, tmp_path: Path
) -> None:
    w = tmp_path / "w\nt\x1b[31m"
    git(repo, "worktree", "add", "-q", str(w), "-b", "nl")
    (w / "notes.txt").write_bytes(b"only here\n")
    ran = gs(repo, "run", "--", "git", "worktree", "remove", "--force", str(w))
    assert not w.exists()
    (line,) = [ln for ln in ran.err.splitlines() if "removed the worktree" in ln]
    # one line, no escape sequence raw: the path as the shell word for it (RED34)
    assert "\x1b" not in line and "w\\012t\\033[31m')\"" in line, line
    cmd = line.split("restore with: ")[1]
    run(repo, "sh", "-c", cmd)  # pasted as printed, in sh (dash)
    assert (w / "notes.txt").read_bytes() == b"only here\n"
