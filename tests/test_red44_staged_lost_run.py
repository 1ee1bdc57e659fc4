"""A staged version that differs from both HEAD and the file, thrown away by a command under
`git snapshot run`, is saved and named (red44 F2).

`git add f.txt` (v1), edit again (v2), `git snapshot run -- git reset --hard`: the report named
f.txt (v2, saved); v1, which only the index held, was in no snapshot and not named (only
`git fsck --lost-found` found it). `run -- git stash drop` and `run -- git worktree remove`
already saved such versions in a snapshot of their own. `run` now does so for its own
worktree before any command, and names those the command left nowhere git keeps them (the
index, the file, HEAD's commit, a stash entry it made): restored, they are v1's bytes.
Controls: a command that keeps v1 (in the index, on disk, in a stash entry) names nothing.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from clihelpers import Ran
from clihelpers import git
from clihelpers import gs
from hookhelpers import commit
from hookhelpers import install
from hookhelpers import put_venv_on_path

V1 = b"STAGED v1 (exists only in the index)\n"
V2 = b"DISK v2\n"
LINE = re.compile(
    r"git-snapshot: .* threw away 1 staged version that differed from both HEAD and the "
    r"file: f\.txt \(saved in snapshot (\d+); restore with: "
    r"git snapshot restore \1 --to (\S+)\)"
)


def staged(repo: Path) -> Path:
    """*repo*, hooked, on main with branch b: f.txt staged as V1, then V2 on disk."""
    commit(repo, "f.txt", b"base\n")
    git(repo, "branch", "b")
    install(repo)
    stage_v1(repo)
    return repo


def stage_v1(top: Path, name: str = "f.txt") -> None:
    """*name* in the worktree *top* staged as V1, then V2 on disk: a version only the index
    holds."""
    (top / name).write_bytes(V1)
    git(top, "add", "--", name)
    (top / name).write_bytes(V2)


def _restored(repo: Path, ran: Ran) -> bytes:
    """The bytes of f.txt that the staged line's own restore command brings back."""
    found = LINE.search(ran.err)
    assert found, ran.err
    gs(repo, "restore", found[1], "--to", found[2])
    return (repo / found[2] / "f.txt").read_bytes()


COMMANDS = [
    ["reset", "--hard"],
    ["reset"],
    ["checkout", "-f", "b"],
    ["switch", "--discard-changes", "main"],
    ["restore", "--staged", "--worktree", "f.txt"],
    ["restore", "--staged", "f.txt"],
    ["rm", "-qf", "f.txt"],
    ["rm", "-q", "--cached", "-f", "f.txt"],
    ["checkout", "HEAD", "--", "f.txt"],
    ["read-tree", "HEAD"],
]


@pytest.mark.parametrize("cmd", COMMANDS, ids=[" ".join(c) for c in COMMANDS])
def test_a_staged_version_the_command_throws_away_is_saved_and_named(
    repo: Path, cmd: list[str]
) -> None:
    r = staged(repo)
    ran = gs(r, "run", "--", "git", *cmd)
    assert V1 not in git(r, "ls-files", "-s").out.encode()  # (git did throw it away)
    assert _restored(r, ran) == V1


@pytest.mark.parametrize(
    "cmd",
    [["checkout", "--", "f.txt"], ["stash", "-q"], ["status", "--short"]],
    ids=["checkout -- f.txt", "stash", "status"],
)
def test_a_staged_version_git_still_holds_is_not_named(repo: Path, cmd: list[str]) -> None:
    r = staged(repo)
    ran = gs(r, "run", "--", "git", *cmd)
    assert "staged version" not in ran.err, ran.err


def test_a_staged_version_of_a_file_deleted_on_disk_is_saved(repo: Path) -> None:
    r = staged(repo)
    (r / "f.txt").unlink()
    ran = gs(r, "run", "--", "git", "reset", "--hard")
    assert _restored(r, ran) == V1


def test_undo_puts_the_staged_version_in_the_folder_the_line_names(repo: Path) -> None:
    r = staged(repo)
    ran = gs(r, "run", "--", "git", "reset", "--hard")
    found = LINE.search(ran.err)
    assert found, ran.err
    gs(r, "undo")
    assert (r / "f.txt").read_bytes() == V2
    assert (r / found[2] / "f.txt").read_bytes() == V1


def test_a_staged_version_on_an_unborn_branch_is_saved(tmp_path: Path) -> None:
    """No commit yet: every version the index holds is staged (diff-index against no HEAD)."""
    r = tmp_path / "unborn"
    git(tmp_path, "init", "-q", "-b", "main", str(r))
    install(r)
    stage_v1(r)
    ran = gs(r, "run", "--", "git", "rm", "-q", "--cached", "-f", "f.txt")
    assert _restored(r, ran) == V1


def test_a_staged_version_git_mv_moved_is_not_named(repo: Path) -> None:
    r = staged(repo)
    ran = gs(r, "run", "--", "git", "mv", "f.txt", "g.txt")
    assert "staged version" not in ran.err, ran.err


def test_the_pasted_command_restores_this_stores_snapshot(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The repository has snapshots in two stores (red44 F1): the staged line's command names
    run's store, and pasted where the other store is set it restores v1, not that store's
    snapshot of the same number."""
    put_venv_on_path(monkeypatch)  # (the pasted command's git snapshot)
    r = staged(repo)
    for m in ("one", "two", "three"):
        gs(r, "create", "-m", m)  # (the test's store: numbers 1-3 there)
    other = tmp_path / "other-store"
    ran = gs(r, "run", "--", "git", "reset", "--hard", GIT_SNAPSHOT_STORE=str(other))
    line = next((ln for ln in ran.err_lines if "staged version" in ln), "")
    assert "--this-store" in line, ran.err
    command = line.split("restore with: ", 1)[1].rsplit(")", 1)[0]
    subprocess.run(["sh", "-c", command], cwd=r, check=True, capture_output=True)
    dest = command.rsplit(" ", 1)[1]
    assert (r / dest / "f.txt").read_bytes() == V1
