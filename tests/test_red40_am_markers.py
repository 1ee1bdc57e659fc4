"""After `git am -3` (or `rebase --apply`) stops on a conflict, git's conflict-marker file is
git's, not the user's edit (RED40 F finding 3).

The marker check relies on AUTO_MERGE, which merge-ort writes for merge, rebase, cherry-pick
and stash, but `am -3` falls back to merge-recursive (git 2.39), which writes none: `run --
git am --abort` (or `--skip`) named the untouched marker file as destroyed uncommitted edits,
and pasting the restore wrote the markers back. A hand resolution is still the user's.
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


def _stopped(repo: Path, how: str, style: str) -> Path:
    """*repo*, hooked, with `git am -3` of feat's patch (or `rebase --apply`) stopped on a
    conflict in m.py, conflict style *style*."""
    commit(repo, "m.py", b"base\nline2\n")
    git(repo, "config", "merge.conflictStyle", style)
    git(repo, "checkout", "-q", "-b", "feat")
    (repo / "m.py").write_bytes(b"feat\nline2\n")
    git(repo, "commit", "-qam", "feat: change m")
    patch = git(repo, "format-patch", "-1", "--stdout", "feat").out
    git(repo, "checkout", "-q", "main")
    (repo / "m.py").write_bytes(b"main\nline2\n")
    git(repo, "commit", "-qam", "main")
    install(repo)
    if how == "am":
        (repo.parent / "p.patch").write_text(patch)
        git(repo, "am", "-q", "-3", str(repo.parent / "p.patch"), rc=None)
    else:
        git(repo, "checkout", "-q", "feat")
        git(repo, "rebase", "-q", "--apply", "main", rc=None)
    assert b"<<<<<<< HEAD" in (repo / "m.py").read_bytes()
    return repo


@pytest.fixture(params=["am", "rebase-apply"])
def how(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _lost(repo: Path) -> list[str]:
    return [x["path"] for e in json.loads(gs(repo, "losses", "--json").out) for x in e["lost"]]


@pytest.mark.parametrize("end", ["--abort", "--skip"])
@pytest.mark.parametrize("style", ["merge", "diff3"])
def test_ending_an_am_names_no_untouched_marker_file(
    repo: Path, monkeypatch: pytest.MonkeyPatch, how: str, end: str, style: str
) -> None:
    put_venv_on_path(monkeypatch)
    r = _stopped(repo, how, style)
    op = "am" if how == "am" else "rebase"
    ran = gs(r, "run", "--", "git", op, end, rc=None)
    assert b"<<<<<<<" not in (r / "m.py").read_bytes()
    assert "destroyed" not in ran.err, ran.err
    assert _lost(r) == []


def test_a_hand_resolution_is_still_named(
    repo: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    put_venv_on_path(monkeypatch)
    r = _stopped(repo, how, "merge")
    (r / "m.py").write_bytes(b"main and feat\nline2\n")
    op = "am" if how == "am" else "rebase"
    ran = gs(r, "run", "--", "git", op, "--abort")
    assert "destroyed" in ran.err and "m.py" in ran.err, ran.err
    assert _lost(r) == ["m.py"]
    gs(r, "undo")
    assert (r / "m.py").read_bytes() == b"main and feat\nline2\n"
