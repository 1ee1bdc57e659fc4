"""A file another program saves and puts into git's object database while a branch checkout or
a merge runs is not reported as destroyed by it (RED40 E finding 3).

An IDE that stages on save (`git add`) wrote a staged new file, in neither branch, while
`git checkout B` ran: the post-checkout hook took it for a file the checkout wrote (changed
since the command began, its bytes a blob git has) and reported "git checkout destroyed 1
file with uncommitted edits: n.txt (an earlier version ...)"; `undo` would have written the
older draft over the newer one. Git writes, at each path, the version of the commit it
checks out or merges to: only a file holding that version is its doing.

The IDE's save comes from a smudge filter on a file the branches differ at, so it happens,
every time, while git writes the worktree (`git hash-object -w` puts it in the object
database, as `git add` does, without the index lock git holds then). The snapshot before
holds draft 1, which the IDE saved and had not staged yet: git cannot give it back.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from hookhelpers import commit
from hookhelpers import install
from hookhelpers import named_lost
from hookhelpers import put_venv_on_path
from hookhelpers import side_commit
from hookhelpers import write

DRAFT = b"draft 2: saved by the IDE during the command\n"


@pytest.fixture
def ide(repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """*repo* on main, hooks installed, with branch B (trigger.txt changed, .env tracked);
    n.txt a staged new file in neither branch (draft 0 staged, draft 1 saved), .env ignored
    on main and edited. Checking out trigger.txt runs the IDE: it saves n.txt and writes its
    blob into git's objects."""
    put_venv_on_path(monkeypatch)
    commit(repo, ".gitignore", b".env\n")
    commit(repo, "trigger.txt", b"main\n")
    side_commit(repo, "B", {"trigger.txt": b"B\n", ".env": b"TRACKED=B\n"})
    script = tmp_path / "ide.sh"
    script.write_text(
        f"printf '%s' '{DRAFT.decode()}' > '{repo}/n.txt'\n"
        f"git -C '{repo}' hash-object -w n.txt >/dev/null\n"
        "cat\n"
    )
    git(repo, "config", "filter.ide.smudge", f"sh '{script}'")
    (repo / ".git" / "info" / "attributes").write_text("trigger.txt filter=ide\n")
    install(repo)
    write(repo / "n.txt", b"draft 0\n")
    git(repo, "add", "n.txt")
    write(repo / "n.txt", b"draft 1\n")  # saved, not staged yet: git cannot give it back
    write(repo / ".env", b"SECRET=mine\n")
    gs(repo, "-m", "start")
    return repo


@pytest.mark.parametrize("command", [("checkout", "B"), ("merge", "-q", "B")])
def test_a_file_the_ide_saved_and_staged_during_the_command_is_not_named(
    ide: Path, command: tuple[str, ...]
) -> None:
    ran = git(ide, *command)
    assert (ide / "n.txt").read_bytes() == DRAFT  # the IDE saved while git wrote
    assert (ide / "trigger.txt").read_bytes() == b"B\n"
    assert "n.txt" not in ran.err, ran.err
    # what the command did write over is still named
    assert named_lost(ide) == [".env"], ran.err


def test_undo_leaves_the_ides_newer_draft(ide: Path) -> None:
    git(ide, "checkout", "-q", "B")
    dry = gs(ide, "undo", "--dry-run")
    assert "n.txt" not in dry.out + dry.err, dry
