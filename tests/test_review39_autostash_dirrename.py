"""Review of RED39 B1/B5: the autostash overlay took git's 3-way apply only when a path of
the stash itself had changed in the index. A file the stash adds in a folder the pull renamed
whole is carried by git's directory rename detection to the new folder although no path of
the stash changed: the snapshot after the pull held it under the old folder, a path that
never existed there (a false ``diff latest``; ``restore latest`` would create it).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from hookhelpers import clone_with_hooks
from hookhelpers import commit
from hookhelpers import put_venv_on_path
from hookhelpers import saved
from hookhelpers import snaps
from hookhelpers import write


@pytest.fixture
def clone(repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A clone of the conftest repo (its "remote"), a folder a/ in it, the hooks installed."""
    put_venv_on_path(monkeypatch)
    commit(repo, "a/x.txt", b"".join(b"%d\n" % i for i in range(50)))
    commit(repo, "a/y.txt", b"".join(b"%d\n" % i for i in range(60)))
    return clone_with_hooks(repo, tmp_path / "work")


@pytest.mark.parametrize("renames", ["true", "conflict"])
def test_pull_autostash_new_file_in_a_renamed_folder(
    repo: Path, clone: Path, tmp_path: Path, renames: str
) -> None:
    """Upstream renamed a/ to b/; the user staged a new a/new.txt. git's apply puts it at
    b/new.txt (``merge.directoryRenames=true``: applied; ``conflict``, git's default: the
    stash kept, the file written there as a conflict). The snapshot after the pull holds no
    a/new.txt, and with the apply done, b/new.txt as on disk."""
    git(clone, "config", "merge.directoryRenames", renames)
    git(repo, "mv", "a", "b")
    git(repo, "commit", "-q", "-m", "rename a/ to b/")
    write(clone / "a" / "new.txt", b"new\n")
    git(clone, "add", "a/new.txt")
    before = {s["id"] for s in snaps(clone)}
    git(clone, "pull", "-q", "--rebase", "--autostash", rc=None)
    assert not (clone / "a").exists()
    assert (clone / "b" / "new.txt").read_bytes() == b"new\n"
    new = [s["id"] for s in snaps(clone) if s["id"] not in before]
    assert new
    last = saved(clone, new[-1], tmp_path)
    assert "a/new.txt" not in last, last.keys()
    if renames == "true":
        assert last["b/new.txt"] == b"new\n"
        assert "no changes between" in gs(clone, "diff", "latest").out
