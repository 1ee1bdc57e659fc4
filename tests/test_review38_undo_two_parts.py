"""Review 38 (RB) of RED38 B1: the restore command `undo`'s "changed since the report"
refusal prints, for a report in two parts (after a restore, what it wrote is named from its
source snapshot, the rest from its pre-restore one: RED32 V2), pasted as printed.

The two commands were joined with " and ": pasted, the first restore took "and", "git",
"snapshot"... for paths. They are joined as a shell runs one after the other.

Real git, the plain hooks installed as a user installs them.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from hookhelpers import commit
from hookhelpers import install
from hookhelpers import put_venv_on_path
from hookhelpers import side_commit
from hookhelpers import write


def test_the_printed_command_of_a_report_in_two_parts_puts_back_both(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    put_venv_on_path(monkeypatch)  # the printed command is pasted into sh
    commit(repo, ".gitignore", b".env\nlocal.ini\n")
    side_commit(repo, "other", {".env": b"SHARED=1\n", "local.ini": b"[shared]\n"})
    install(repo)
    write(repo / ".env", b"ANCIENT=0\n")
    first = int(json.loads(gs(repo, "create", "-m", "first", "--json").out)["id"])
    write(repo / ".env", b"OLD=1\n")
    write(repo / "local.ini", b"[mine]\n")
    gs(repo, "restore", str(first), ".env")  # (a pre-restore snapshot holds OLD=1)
    ran = git(repo, "checkout", "-q", "other")  # (no pre-hook: the snapshot before is the
    # pre-restore one)
    assert len(ran.reports) == 2, ran.err  # .env from snapshot 1, local.ini from the other
    write(repo / ".env", b"NEW=2\n")  # an edit since the report
    write(repo / "local.ini", b"[newer]\n")
    ran = gs(repo, "undo", rc=1)
    assert (repo / ".env").read_bytes() == b"NEW=2\n", ran.err
    tail = ran.err_lines[-1].split("all the same", 1)[1].split(": ", 1)[1]
    subprocess.run(["sh", "-c", tail], cwd=repo, check=True, capture_output=True)
    assert (repo / ".env").read_bytes() == b"ANCIENT=0\n", tail
    assert (repo / "local.ini").read_bytes() == b"[mine]\n", tail
