"""RED31: a loss report inside a submodule is judged by the submodule's own repository.

``git snapshot run -- git submodule deinit -f lib`` reported every file of the submodule as a
destroyed untracked file, its ``.git`` file included: the worktree's git knows none of them.
Now the versions the submodule's repository holds (HEAD, index) are what git gives back
(``git submodule update``), and a file it tracks whose edit went is a tracked file's edit. The
same when the submodule's checkout is forced while its ``.git`` file stays."""

from __future__ import annotations

from pathlib import Path

from clihelpers import git
from clihelpers import gs

ALLOW = ("-c", "protocol.file.allow=always")


def _with_submodule(tmp_path: Path, repo: Path) -> Path:
    lib = tmp_path / "lib"
    lib.mkdir()
    git(lib, "init", "-q")
    (lib / "a.txt").write_text("a\n")
    (lib / "b.txt").write_text("b\n")
    git(lib, "add", ".")
    git(lib, "commit", "-qm", "lib")
    git(repo, *ALLOW, "submodule", "-q", "add", str(lib), "lib")
    git(repo, "commit", "-qm", "submodule")
    return repo / "lib"


def test_deinit_names_only_what_the_submodule_cannot_give_back(tmp_path: Path, repo: Path) -> None:
    sub = _with_submodule(tmp_path, repo)
    (sub / "a.txt").write_text("a\nmy edit\n")
    (sub / "new.txt").write_text("mine\n")
    ran = gs(repo, "run", "--", "git", "submodule", "deinit", "-f", "lib")
    line = ran.err.splitlines()[-1]
    assert "1 file with uncommitted edits, 1 untracked file: lib/a.txt, lib/new.txt" in line
    assert "b.txt" not in line and ".git" not in line, line
    assert line.endswith("restore with: git snapshot restore 1 lib/a.txt lib/new.txt)"), line
    gs(repo, "restore", "1", "lib/a.txt", "lib/new.txt")  # as printed
    assert (sub / "a.txt").read_text() == "a\nmy edit\n"
    assert (sub / "new.txt").read_text() == "mine\n"


def test_a_forced_submodule_checkout_names_the_edit_it_discarded(
    tmp_path: Path, repo: Path
) -> None:
    sub = _with_submodule(tmp_path, repo)
    (sub / "b.txt").write_text("b\nmy edit\n")
    ran = gs(repo, "run", "--", "git", *ALLOW, "submodule", "update", "--force", "--checkout")
    assert (sub / "b.txt").read_text() == "b\n"  # git put it back
    line = ran.err.splitlines()[-1]
    assert "destroyed 1 file with uncommitted edits: lib/b.txt" in line, line
    gs(repo, "restore", "1", "lib/b.txt")
    assert (sub / "b.txt").read_text() == "b\nmy edit\n"
