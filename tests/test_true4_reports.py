"""Loss reports and printed lines that said something untrue (session 16, TRUE4)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from hookhelpers import install
from hookhelpers import put_venv_on_path


def _topic_and_main(repo: Path) -> None:
    """topic: c1 (y), c2 (x, and gen.out, ignored, added with -f), c3 (y) on init; main:
    one commit (z) on init."""
    (repo / "x").write_text("base\n")
    (repo / "y").write_text("base\n")
    (repo / ".gitignore").write_text("gen.out\n")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "init")
    git(repo, "checkout", "-q", "-b", "topic")
    for name, text in (("y", "c1\n"), ("x", "c2\n"), ("y", "c3\n")):
        (repo / name).write_text(text)
        if text == "c2\n":
            (repo / "gen.out").write_text("committed\n")
            git(repo, "add", "-f", "gen.out")
        git(repo, "commit", "-q", "-a", "-m", text.strip())
    git(repo, "checkout", "-q", "main")
    (repo / "z").write_text("up\n")
    git(repo, "add", "z")
    git(repo, "commit", "-q", "-m", "up")
    git(repo, "checkout", "-q", "topic")


def test_a_snapshot_taken_while_a_rebase_stopped_names_no_committed_version_lost(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rebase stopped at an `edit` (or a conflict) long enough for the watcher's snapshot
    (3 s: here a `git snapshot create`): `rebase --continue`'s post-rewrite compared that
    mid-rebase snapshot with the result, and the versions of the rebase's own commits it
    held (C1' here, which HEAD was at, not ORIG_HEAD nor HEAD) were "destroyed uncommitted
    edits": 'git rebase destroyed 2 files with uncommitted edits: x, y'. Nothing of them was
    lost; the ignored file written during the stop, which c2 overwrote, was (and is named)."""
    put_venv_on_path(monkeypatch)
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    _topic_and_main(repo)
    install(repo)
    git(repo, "rebase", "-i", "main", GIT_SEQUENCE_EDITOR="sed -i '1s/^pick/edit/'")
    assert (repo / "y").read_text() == "c1\n"  # stopped at c1'
    (repo / "gen.out").write_text("precious\n")  # ignored: git writes c2's over it
    gs(repo, "create", "-m", "during the stop")
    ran = git(repo, "rebase", "--continue")
    assert "destroyed 1 ignored file: gen.out (" in ran.err, ran.err
    (entry,) = json.loads(gs(repo, "losses", "--json").out)
    assert [x["path"] for x in entry["lost"]] == ["gen.out"]
    gs(repo, "restore", str(entry["snapshot"]), "gen.out")
    assert (repo / "gen.out").read_text() == "precious\n"
