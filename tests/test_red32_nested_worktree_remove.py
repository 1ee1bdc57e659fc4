"""RED32 (red team D, finding 3): `git worktree remove` of a linked worktree kept inside the
main one (`.worktrees/feat`, ignored there) gave two loss reports, and `undo` wrote back a
`.git` file naming a gitdir git had deleted.

`git snapshot run` snapshots the removed worktree on its own and names it ("removed the
worktree ...: restore with: ... --to .worktrees/feat"); then the main worktree's own check,
whose snapshot holds the nested worktree's files, named them again, as "ignored files" of the
main worktree, `.git` file included (its gitdir gone, it was not seen as a repository's). The
files of a linked worktree of this repository that git removed (its gitdir under
`worktrees/` gone with it) are that worktree's, reported by its own snapshot.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from hookhelpers import commit
from hookhelpers import install
from hookhelpers import put_venv_on_path
from hookhelpers import write


@pytest.fixture
def nested(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    put_venv_on_path(monkeypatch)
    commit(repo, ".gitignore", b".worktrees/\n")
    commit(repo, "a", b"a\n")
    install(repo)
    git(repo, "worktree", "add", "-q", ".worktrees/feat", "-b", "feat")
    feat = repo / ".worktrees" / "feat"
    write(feat / "wip.txt", b"wip\n")
    write(feat / "a", b"a\nedit\n")
    gs(repo, "-m", "with the nested worktree")
    return repo


def _lost(repo: Path) -> list[list[str]]:
    return [[x["path"] for x in e["lost"]] for e in json.loads(gs(repo, "losses", "--json"))]


def test_one_report_for_the_removed_worktree_and_undo_gives_it_back(nested: Path) -> None:
    r = nested
    ran = gs(r, "run", "--", "git", "worktree", "remove", "--force", ".worktrees/feat")
    assert not (r / ".worktrees" / "feat").exists()
    assert "destroyed" not in ran.err, ran.err
    (line,) = [ln for ln in ran.ours if "restore with" in ln]
    assert "removed the worktree .worktrees/feat" in line and "--to .worktrees/feat" in line
    assert _lost(r) == [[".worktrees/feat"]]
    gs(r, "undo")
    feat = r / ".worktrees" / "feat"
    assert (feat / "wip.txt").read_bytes() == b"wip\n"
    assert (feat / "a").read_bytes() == b"a\nedit\n"
    dotgit = feat / ".git"
    assert not dotgit.exists() or git(feat, "status", "--short", rc=None).rc == 0


def test_a_nested_worktree_deleted_by_hand_is_still_named(nested: Path) -> None:
    """`rm -rf` leaves git's gitdir for it: its files are lost from the main snapshot's view,
    and a restore of its `.git` file makes it a worktree again (that file was taken for one
    `git submodule update` writes back: undo left a plain folder)."""
    r = nested
    ran = gs(r, "run", "--", "rm", "-rf", ".worktrees/feat")
    (rep,) = ran.reports
    assert set(rep.names.split(", ")) >= {".worktrees/feat/wip.txt", ".worktrees/feat/a"}, ran.err
    gs(r, "undo")
    feat = r / ".worktrees" / "feat"
    assert (feat / "wip.txt").read_bytes() == b"wip\n"
    # a worktree again (what its HEAD holds, git gives back: left out, not restored)
    assert git(feat, "status", "--short").out == " D .gitignore\n D README\n M a\n?? wip.txt\n"


def test_another_repositorys_worktree_inside_is_not_left_out(nested: Path, tmp_path: Path) -> None:
    """A linked worktree of *another* repository kept inside this one, removed with its own
    gitdir: nothing of this repository's reports it otherwise."""
    r = nested
    other = tmp_path / "other"
    other.mkdir()
    git(other, "init", "-q")
    commit(other, "o", b"o\n")
    git(other, "worktree", "add", "-q", str(r / ".worktrees" / "o"), "-b", "o")
    write(r / ".worktrees" / "o" / "mine.txt", b"mine\n")
    gs(r, "-m", "with o")
    shutil.rmtree(other / ".git" / "worktrees")
    ran = gs(r, "run", "--", "rm", "-rf", ".worktrees/o")
    (rep,) = ran.reports
    assert ".worktrees/o/mine.txt" in rep.names, ran.err


def test_a_removal_run_cannot_see_names_the_files_but_not_the_git_file(nested: Path) -> None:
    """`git worktree remove` inside a script: `run` takes no snapshot of that worktree and
    logs no line for it; this worktree's report names its files, not the `.git` file that
    names the gitdir git deleted."""
    r = nested
    ran = gs(r, "run", "--", "sh", "-c", "git worktree remove --force .worktrees/feat")
    (rep,) = ran.reports
    names = rep.names.split(", ")
    assert ".worktrees/feat/wip.txt" in names and ".worktrees/feat/.git" not in names, ran.err
    gs(r, "undo")
    assert (r / ".worktrees" / "feat" / "wip.txt").read_bytes() == b"wip\n"
    assert not (r / ".worktrees" / "feat" / ".git").exists()
