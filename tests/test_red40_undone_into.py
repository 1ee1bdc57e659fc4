"""`undo` of a report it already undid into another folder (a removed worktree's, a dropped
stash entry's ../stash-0) says that folder where it says what was undone (RED40 F, note).

The folder was glued onto the end of the hint that ends the first clause: "... bring back the
newest saved copy of a file with git snapshot restore --newest PATH into /work/wt2": pasted as
read, a `restore --newest PATH into DIR` that restores nothing like it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from hookhelpers import commit
from hookhelpers import install
from hookhelpers import put_venv_on_path
from hookhelpers import write


def _undone_twice(repo: Path, how: str) -> tuple[str, str]:
    """The second `undo`'s line, and the folder the first wrote into."""
    commit(repo, "a.txt", b"a\n")
    install(repo)
    if how == "worktree":
        folder = repo.parent / "wt2"
        git(repo, "worktree", "add", "-q", "-b", "side", str(folder))
        write(folder / "notes.txt", b"my notes\n")
        gs(repo, "run", "--", "git", "worktree", "remove", "--force", str(folder))
    else:
        folder = repo.parent / "stash-0"
        write(repo / "a.txt", b"a\nmine\n")
        git(repo, "stash", "push", "-q")
        gs(repo, "run", "--", "git", "stash", "drop")
    gs(repo, "undo")
    return gs(repo, "undo", rc=1).ours[-1], str(folder)


@pytest.mark.parametrize("how", ["worktree", "stash"])
def test_the_folder_follows_what_was_undone_not_the_newest_hint(
    repo: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    put_venv_on_path(monkeypatch)
    line, folder = _undone_twice(repo, how)
    assert "already undone" in line, line
    assert "restore --newest PATH into" not in line, line
    undone, _, rest = line.partition("; ")
    assert folder in undone or folder.rsplit("/", 1)[-1] in undone, line
    assert "restore --newest PATH" in rest, line
