"""``run``'s guard finds what git will destroy however git is told which one it is (RED36 A1).

``git worktree remove --force NAME`` accepts the worktree's last path components as well as its
path (git matches that suffix first, then the path), and a git alias (``wtrm = worktree remove
--force``, ``sd = stash drop``) is the command it stands for. The guard resolved only the path
joined to the cwd and did not expand aliases: nothing was saved, and "snapshot N taken before"
was printed as if it had been. A ``!`` alias runs a shell command the guard cannot read: it
says so rather than imply that the snapshot covers it.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from clihelpers import run
from hookhelpers import install
from hookhelpers import put_venv_on_path


@pytest.fixture
def hooked(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    put_venv_on_path(monkeypatch)
    install(repo)
    return repo


def _linked(repo: Path, where: Path) -> Path:
    git(repo, "worktree", "add", "-q", str(where), "-b", where.name)
    (where / "README").write_bytes(b"EDIT\n")
    (where / "new.txt").write_bytes(b"only here\n")
    return where


def _restored(cwd: Path, err: str, said: str) -> Path:
    """Paste the restore command of the line naming *said*; the folder it restored into."""
    (line,) = [ln for ln in err.splitlines() if said in ln]
    cmd = line.split("restore with: ")[1]
    run(cwd, "sh", "-c", cmd)
    return (cwd / shlex.split(cmd)[-1]).resolve()


def _check_saved(dest: Path) -> None:
    assert (dest / "README").read_bytes() == b"EDIT\n"
    assert (dest / "new.txt").read_bytes() == b"only here\n"


def test_worktree_remove_by_its_name_saves_it(hooked: Path, tmp_path: Path) -> None:
    wt = _linked(hooked, tmp_path / "wt_r3")
    ran = gs(hooked, "run", "--", "git", "worktree", "remove", "--force", "wt_r3")
    assert not wt.exists()
    _check_saved(_restored(hooked, ran.err, "removed the worktree"))
    (entry,) = json.loads(gs(hooked, "losses", "--json").out)
    assert entry["command"] == "git worktree remove"


def test_worktree_remove_by_a_suffix_of_its_path_saves_that_one(
    hooked: Path, tmp_path: Path
) -> None:
    # git matches the suffix before the path: here ./wt is no worktree, the one at x/wt is
    wt = _linked(hooked, tmp_path / "x" / "wt")
    (hooked / "wt").mkdir()
    ran = gs(hooked, "run", "--", "git", "worktree", "remove", "--force", "x/wt")
    assert not wt.exists()
    _check_saved(_restored(hooked, ran.err, "removed the worktree"))


def test_worktree_remove_through_an_alias_saves_it(hooked: Path, tmp_path: Path) -> None:
    wt = _linked(hooked, tmp_path / "wt_r8")
    git(hooked, "config", "alias.wtrm", "worktree remove --force")
    git(hooked, "config", "alias.rmwt", "wtrm")  # an alias of an alias
    ran = gs(hooked, "run", "--", "git", "rmwt", "../wt_r8")
    assert not wt.exists()
    dest = _restored(hooked, ran.err, "git worktree remove removed the worktree ../wt_r8")
    _check_saved(dest)


def test_stash_drop_through_an_alias_saves_the_entry(hooked: Path) -> None:
    git(hooked, "config", "alias.sd", "stash drop")
    (hooked / "README").write_bytes(b"STASHED EDIT\n")
    git(hooked, "stash", "-q")
    ran = gs(hooked, "run", "--", "git", "sd")
    assert git(hooked, "stash", "list").out == ""
    dest = _restored(hooked, ran.err, "git stash drop dropped stash@{0}")
    assert (dest / "README").read_bytes() == b"STASHED EDIT\n"


def test_a_shell_alias_is_said_to_be_unknown_not_covered(hooked: Path, tmp_path: Path) -> None:
    wt = _linked(hooked, tmp_path / "wt_sh")
    git(hooked, "config", "alias.zap", "!git worktree remove --force")
    ran = gs(hooked, "run", "--", "git", "zap", str(wt))
    assert not wt.exists()
    (line,) = [ln for ln in ran.err.splitlines() if "'!' alias" in ln]
    assert "zap" in line and "cannot tell" in line and "not saved" in line, line
    assert "removed the worktree" not in ran.err
