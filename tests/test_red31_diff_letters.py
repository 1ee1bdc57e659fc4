"""RED31: ``diff``'s letters are git's. A change of mode alone was T and a file turned into a
symlink M, the other way round from ``git diff --name-status`` (M and T); between two
snapshots the symlink was a deletion and an addition. Checked against git itself, on the
same change, against the worktree and between snapshots."""

from __future__ import annotations

import json
import os
from pathlib import Path

from clihelpers import git
from clihelpers import gs


def _letters(text: str) -> dict[str, str]:
    return {line[2:]: line[0] for line in text.splitlines() if line[1:2] in (" ", "\t")}


def test_letters_are_gits(repo: Path) -> None:
    for name in ("mode.sh", "link", "edit.txt"):
        (repo / name).write_text(f"{name}\n")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "three")
    gs(repo)
    (repo / "mode.sh").chmod(0o755)
    os.unlink(repo / "link")
    os.symlink("edit.txt", repo / "link")
    (repo / "edit.txt").write_text("edited\n")

    theirs = {
        k.replace("\t", ""): v for k, v in _letters(git(repo, "diff", "--name-status").out).items()
    }
    assert theirs == {"mode.sh": "M", "link": "T", "edit.txt": "M"}  # git's own
    assert _letters(gs(repo, "diff", "1").out) == theirs
    statuses = {c["path"]: c["status"] for c in json.loads(gs(repo, "diff", "1", "--json").out)}
    assert statuses == {"mode.sh": "mode", "link": "type", "edit.txt": "modified"}

    gs(repo)
    assert _letters(gs(repo, "diff", "1", "2").out) == theirs
    changes = json.loads(gs(repo, "diff", "1", "2", "--json").out)
    link = next(c for c in changes if c["path"] == "link")
    assert (link["status"], link["old"]["type"], link["new"]["type"]) == (
        "type",
        "file",
        "symlink",
    )
