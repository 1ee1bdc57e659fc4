"""DESIGN "Loss reports": each lost path names the snapshot holding it and the restore command
that works as pasted, in the directory the user ran git from. The git commands run from a
shell (``sh -c``) as a user's do: the shell's directory is where the user is."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
from clihelpers import Ran
from clihelpers import git
from clihelpers import gs
from clihelpers import run
from hookhelpers import COMMITTED
from hookhelpers import SECRET
from hookhelpers import commit
from hookhelpers import install
from hookhelpers import put_venv_on_path
from hookhelpers import restore_env
from hookhelpers import side_commit
from hookhelpers import write
from precommithelpers import pc_install


@pytest.fixture
def clone(repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A clone of the conftest repo ignoring .env, with a subdirectory and the hooks."""
    put_venv_on_path(monkeypatch)
    commit(repo, ".gitignore", b".env\n")
    commit(repo, "sub/keep.txt", b"keep\n")
    work = tmp_path / "work"
    git(tmp_path, "clone", "-q", str(repo), str(work))
    install(work)
    return work


def test_pull_from_a_subdirectory_prints_a_restore_command_that_works_there(
    repo: Path, clone: Path
) -> None:
    """`git pull` runs `git merge` in the worktree root (GIT_PREFIX is empty there)."""
    commit(repo, ".env", COMMITTED, force=True)
    write(clone / ".env", SECRET)
    ran = run(clone / "sub", "sh", "-c", "git pull -q --ff-only")
    (rep,) = ran.reports
    assert rep.names == "../.env"
    restore_env(clone, rep, cwd=clone / "sub")


def test_git_dash_c_prints_a_restore_command_that_works_where_the_user_is(
    repo: Path, clone: Path
) -> None:
    """`git -C sub merge` from the root: the user pastes the command in the root."""
    git(clone, "checkout", "-q", "-b", "feature")
    commit(clone, ".env", COMMITTED, force=True)
    git(clone, "checkout", "-q", "master" if _has(clone, "master") else "main")
    write(clone / ".env", SECRET)
    ran = run(clone, "sh", "-c", "git -C sub merge -q feature")
    (rep,) = ran.reports
    assert rep.names == ".env"
    restore_env(clone, rep, cwd=clone)


def _has(repo: Path, branch: str) -> bool:
    return git(repo, "rev-parse", "-q", "--verify", branch, rc=None).rc == 0


def test_a_lost_path_starting_with_a_dash_is_restored_as_pasted(clone: Path) -> None:
    """`git snapshot restore 3 -x/.env` would be an unknown option: the paths follow `--`."""
    git(clone, "checkout", "-q", "-b", "feature")
    commit(clone, "sub/-x/.env", COMMITTED, force=True)
    git(clone, "checkout", "-q", "-")
    write(clone / "sub" / "-x" / ".env", SECRET)
    ran = run(clone / "sub", "sh", "-c", "git merge -q feature")
    (rep,) = ran.reports
    assert rep.names == "./-x/.env"  # as every listing prints it (RED39 C1)
    assert (clone / "sub" / "-x" / ".env").read_bytes() == COMMITTED
    run(clone / "sub", "sh", "-c", shlex.join(rep.command))
    assert (clone / "sub" / "-x" / ".env").read_bytes() == SECRET


def test_losses_in_many_folders_restore_only_what_was_lost(clone: Path) -> None:
    """Past 10 top-level folders the command was `git snapshot restore N` (the whole tree):
    pasted, it also put back main's version of a tracked file the merge had brought."""
    git(clone, "checkout", "-q", "-b", "feature")
    for i in range(12):
        commit(clone, f"d{i}/.env", COMMITTED, force=True)
    commit(clone, "sub/keep.txt", b"merged\n")
    git(clone, "checkout", "-q", "-")
    for i in range(12):
        write(clone / f"d{i}" / ".env", SECRET + b"%d" % i)
    ran = run(clone, "sh", "-c", "git merge -q feature")
    (rep,) = ran.reports
    assert rep.kinds == "12 ignored files"
    run(clone, "sh", "-c", shlex.join(rep.command))
    assert [(clone / f"d{i}" / ".env").read_bytes() for i in range(12)] == [
        SECRET + b"%d" % i for i in range(12)
    ]
    assert (clone / "sub" / "keep.txt").read_bytes() == b"merged\n"


def test_losses_folded_in_one_folder_restore_only_what_was_lost(clone: Path) -> None:
    """11 lost files in sub/ gave `git snapshot restore N sub`: pasted, it also put back the
    snapshot's sub/keep.txt over the version the merge had brought."""
    git(clone, "checkout", "-q", "-b", "feature")
    for i in range(11):
        commit(clone, f"sub/d{i}/.env", COMMITTED, force=True)
    commit(clone, "sub/keep.txt", b"merged\n")
    git(clone, "checkout", "-q", "-")
    for i in range(11):
        write(clone / "sub" / f"d{i}" / ".env", SECRET + b"%d" % i)
    ran = run(clone, "sh", "-c", "git merge -q feature")
    (rep,) = ran.reports
    assert rep.names == "sub/ (11 files)"
    run(clone, "sh", "-c", shlex.join(rep.command))
    assert [(clone / "sub" / f"d{i}" / ".env").read_bytes() for i in range(11)] == [
        SECRET + b"%d" % i for i in range(11)
    ]
    assert (clone / "sub" / "keep.txt").read_bytes() == b"merged\n"


@pytest.mark.slow
def test_a_report_held_for_the_next_command_works_where_that_command_runs(pc: Path) -> None:
    """Through pre-commit without a terminal, the report waits for the next git-snapshot
    command, which may run in another directory than the git command did."""
    r = pc
    commit(r, "sub/keep.txt", b"keep\n")
    side_commit(r, "feature", {".env": COMMITTED})
    pc_install(r)
    write(r / ".env", SECRET)
    gs(r, "create")
    run(r / "sub", "sh", "-c", "git checkout -q feature")
    (line,) = [ln for ln in gs(r, "list").err.splitlines() if "destroyed" in ln]
    (rep,) = Ran(0, "", line).reports
    assert (r / ".env").read_bytes() == COMMITTED
    run(r, "sh", "-c", shlex.join(rep.command))
    assert (r / ".env").read_bytes() == SECRET
