"""``git snapshot run -- git rm -f sub`` of a submodule with an uncommitted edit (RED39 B2).

The report left ``sub/.git`` out ("git submodule update writes it again": not after `git rm`,
which takes the gitlink out of the index) and `undo` did not write it back, so the folder came
back as a plain folder of the superproject, over which `git submodule update` then checked the
submodule out without a word, discarding the edit a second time. And every file was called
untracked: the submodule's repository was asked nothing, since git there cannot start while
its configured worktree (the removed folder) is missing.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from hookhelpers import commit
from hookhelpers import install
from hookhelpers import put_venv_on_path

ALLOW = ("-c", "protocol.file.allow=always")


def with_submodule(repo: Path, tmp_path: Path, tag_before: str | None = None) -> None:
    """Commit top.txt (tagged *tag_before* if given), then a clean submodule sub (its own
    repository at *tmp_path*/lib: .gitignore and lib.c committed); install the hooks."""
    lib = tmp_path / "lib"
    lib.mkdir()
    git(lib, "init", "-q")
    commit(lib, ".gitignore", b"*.o\n")
    commit(lib, "lib.c", b"v1\n")
    commit(repo, "top.txt", b"top\n")
    if tag_before:
        git(repo, "tag", tag_before)
    git(repo, *ALLOW, "submodule", "-q", "add", str(lib), "sub")
    git(repo, "commit", "-qm", "submodule")
    install(repo)


@pytest.fixture
def superproject(repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """*repo* with submodule sub: lib.c edited, note.txt untracked; hooks installed."""
    put_venv_on_path(monkeypatch)
    with_submodule(repo, tmp_path)
    (repo / "sub" / "lib.c").write_bytes(b"v1\nMY EDIT\n")
    (repo / "sub" / "note.txt").write_bytes(b"note\n")
    return repo


def test_rm_of_a_submodule_names_its_git_file_and_undo_gives_back_its_checkout(
    superproject: Path,
) -> None:
    gs(superproject, "run", "--", "git", "rm", "-q", "-f", "sub")
    assert not (superproject / "sub").exists()
    (entry,) = json.loads(gs(superproject, "losses", "--json").out)
    kinds = {x["path"]: x["kind"] for x in entry["lost"]}
    assert "sub/.git" in kinds, kinds
    assert kinds["sub/lib.c"] == "tracked", kinds
    assert kinds["sub/.gitignore"] == "tracked", kinds  # git will not write it there again
    gs(superproject, "undo")
    assert (superproject / "sub" / "lib.c").read_bytes() == b"v1\nMY EDIT\n"
    assert (superproject / "sub" / ".gitignore").read_bytes() == b"*.o\n"
    git(superproject, "restore", "--staged", "sub", ".gitmodules")
    status = git(superproject / "sub", "status", "--porcelain").out
    assert status.splitlines() == [" M lib.c", "?? note.txt"], status


def test_deinit_still_leaves_the_git_file_to_git(superproject: Path) -> None:
    """After `deinit -f` the gitlink stays: `git submodule update` writes sub/.git again."""
    gs(superproject, "run", "--", "git", "submodule", "deinit", "-q", "-f", "sub")
    (entry,) = json.loads(gs(superproject, "losses", "--json").out)
    assert {x["path"]: x["kind"] for x in entry["lost"]} == {
        "sub/lib.c": "tracked",
        "sub/note.txt": "untracked",
    }
