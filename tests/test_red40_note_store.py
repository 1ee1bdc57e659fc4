"""RED40 C2: the note a stopped merge leaves in .git names a snapshot of one store. A process
of another store (another GIT_SNAPSHOT_STORE; root's hook under sudo; another member of a
shared repository) read the bare number in its own store, where it means another snapshot,
and reported that one as the exact copy of what the merge destroyed, or used the note up.
The note now says which store it belongs to, and another store's process leaves it alone."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from clihelpers import VENV_BIN
from clihelpers import git
from clihelpers import gs
from clihelpers import run
from hookhelpers import commit
from hookhelpers import install
from hookhelpers import put_venv_on_path
from hookhelpers import write

PENDING = ".git/git-snapshot-pending"


@pytest.fixture
def stopped(repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """*repo* (hooks installed) whose merge of `other` stopped on a conflict after it wrote
    the committed .env over the user's ignored one; the user's store is GIT_SNAPSHOT_STORE.
    Another store (returned) has snapshots of this worktree, by the same numbers, holding
    another .env."""
    put_venv_on_path(monkeypatch)
    commit(repo, ".gitignore", b".env\n")
    commit(repo, "c.txt", b"base\n")
    git(repo, "checkout", "-q", "-b", "other")
    commit(repo, ".env", b"SHARED=team\n", force=True)
    commit(repo, "c.txt", b"theirs\n")
    git(repo, "checkout", "-q", "main")
    commit(repo, "c.txt", b"ours\n")
    install(repo)
    other = tmp_path / "other-store"
    write(repo / ".env", b"OLD=earlier\n")
    for i in range(8):
        gs(repo, "create", "-m", f"other {i}", GIT_SNAPSHOT_STORE=str(other))
    for i in range(3):
        gs(repo, "create", "-m", f"mine {i}")
    write(repo / ".env", b"SECRET=mine\n")
    git(repo, "merge", "-q", "other", rc=1)
    assert (repo / ".env").read_bytes() == b"SHARED=team\n" and (repo / PENDING).exists()
    return repo, other


def test_another_stores_hook_leaves_the_note_and_its_owner_gets_the_right_report(
    stopped: tuple[Path, Path],
) -> None:
    repo, other = stopped
    git(repo, "merge", "--abort", GIT_SNAPSHOT_STORE=str(other))
    assert not (repo / ".env").exists()
    ran = git(repo, "checkout", "-q", "-b", "z", GIT_SNAPSHOT_STORE=str(other))
    assert ran.reports == [], ran.err  # not its snapshot to name
    assert (repo / PENDING).exists()  # left for its own store's next process
    assert gs(repo, "losses", GIT_SNAPSHOT_STORE=str(other)).reports == []
    (rep,) = gs(repo, "list").reports  # the owner's next command: her own snapshot
    assert (rep.what, rep.names) == ("git merge", ".env")
    gs(repo, *rep.command[2:])
    assert (repo / ".env").read_bytes() == b"SECRET=mine\n"
    assert not (repo / PENDING).exists()


def test_another_stores_command_leaves_the_note(stopped: tuple[Path, Path]) -> None:
    """A git-snapshot command (`sudo git snapshot undo`, say) of another store neither
    reports from the note nor uses it up."""
    repo, other = stopped
    git(repo, "merge", "--abort")
    assert gs(repo, "list", GIT_SNAPSHOT_STORE=str(other)).reports == []
    assert (repo / PENDING).exists()
    (rep,) = gs(repo, "list").reports
    assert rep.names == ".env"


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to make the note another user's")
def test_a_note_this_process_cannot_read_is_someone_elses_and_is_left(
    stopped: tuple[Path, Path],
) -> None:
    """A shared repository's member cannot read another's note (0600): it is not torn, it is
    someone else's; deleting it lost the owner's report."""
    repo, _ = stopped
    note = repo / PENDING
    git(repo, "merge", "--abort")
    os.chown(note, 4242, 4242)
    setpriv = ["setpriv", "--bounding-set=-dac_override,-dac_read_search"]
    env = {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}"}
    run(repo, *setpriv, "git", "checkout", "-q", "-b", "z", env=env)
    assert note.exists()
