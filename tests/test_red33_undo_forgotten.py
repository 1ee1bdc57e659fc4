"""RED33 V3: after a restore, a git command's loss is reported in two parts (what the restore
wrote, against its source snapshot S; the rest, against the pre-restore snapshot P), and
`undo` puts back both. With one of the two snapshots forgotten since, `undo` restored nothing
and said the loss "is no longer in the store", though the other part was still held. Now it
puts back what is held, names in one line what went with the forgotten snapshot (exit 1), and
notes the undo so that a second one does not offer to put back what it never wrote.

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
from hookhelpers import snaps
from hookhelpers import write

RESTORED = b"TOKEN=restored\n"  # S's .env: what the restore wrote
LOCAL = b"[local]\nmine = 1\n"  # local.ini: untouched by the restore, in P
BRANCH = {".env": b"from the branch\n", "local.ini": b"branch ini\n"}


@pytest.fixture
def lost(repo: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, int, int]:
    """`restore S .env`, then `git checkout other` wrote over .env (reported against S) and
    local.ini (against the pre-restore snapshot P). Returns the worktree, S and P."""
    put_venv_on_path(monkeypatch)  # the printed commands are pasted into sh
    commit(repo, ".gitignore", b".env\nlocal.ini\n")
    side_commit(repo, "other", BRANCH)
    install(repo)
    write(repo / ".env", RESTORED)
    s = int(json.loads(gs(repo, "create", "--json").out)["id"])
    write(repo / ".env", b"replaced by the restore\n")
    write(repo / "local.ini", LOCAL)
    gs(repo, "restore", str(s), ".env")
    p = snaps(repo)[-1]["id"]
    ran = git(repo, "checkout", "-q", "other")
    assert {r.snap for r in ran.reports} == {s, p}, ran.err
    return repo, s, p


def test_undo_puts_back_the_part_still_held(lost: tuple[Path, int, int]) -> None:
    r, s, p = lost
    gs(r, "forget", str(s), rc=None)
    dry = gs(r, "undo", "--dry-run", rc=1)
    assert (r / "local.ini").read_bytes() == BRANCH["local.ini"], dry.err
    ran = gs(r, "undo", rc=1)
    assert (r / "local.ini").read_bytes() == LOCAL, ran.err  # P's part is back
    assert (r / ".env").read_bytes() == BRANCH[".env"]  # nothing to put back it with
    assert "no longer in the store" not in ran.err, ran.err  # (the whole loss is not gone)
    (line,) = [ln for ln in ran.ours if f"snapshot {s}" in ln]
    assert ".env" in line and "forgotten" in line, ran.err
    assert not any("local.ini" in ln for ln in ran.ours if "forgotten" in ln), ran.err
    # the same words before writing anything
    assert any(".env" in ln and f"snapshot {s}" in ln for ln in dry.ours), dry.err
    # recorded as undone, except the forgotten part
    items = {i["snapshot"]: i for i in json.loads(gs(r, "losses", "--json").out)}
    assert items[p]["undone"] and not items[s]["undone"], items
    assert "undone" not in next(ln for ln in gs(r, "losses").out.splitlines() if ".env" in ln)


def test_a_second_undo_offers_only_what_the_first_wrote(lost: tuple[Path, int, int]) -> None:
    r, s, _ = lost
    gs(r, "forget", str(s), rc=None)
    gs(r, "undo", rc=1)
    write(r / "local.ini", b"edited after the undo\n")
    line = gs(r, "undo", rc=1).ours[-1]
    assert "already undone" in line, line
    cmd = line.split("to put that back: git snapshot restore", 1)[1].split(";")[0]
    assert ".env" not in cmd, line  # the undo never wrote it
    assert ".env" in line.split(";", 2)[-1], line  # ... and says so
    subprocess.run(["sh", "-c", "git snapshot restore" + cmd], cwd=r, check=True)
    assert (r / "local.ini").read_bytes() == BRANCH["local.ini"]  # what the undo wrote over


def test_undo_puts_back_the_restored_part_when_p_is_forgotten(
    lost: tuple[Path, int, int],
) -> None:
    r, _, p = lost
    gs(r, "forget", str(p), rc=None)
    ran = gs(r, "undo", rc=1)
    assert (r / ".env").read_bytes() == RESTORED, ran.err
    (line,) = [ln for ln in ran.ours if f"snapshot {p}" in ln and "forgotten" in ln]
    assert "local.ini" in line and ".env" not in line, ran.err


def test_both_forgotten_is_refused_as_before(lost: tuple[Path, int, int]) -> None:
    r, s, p = lost
    gs(r, "forget", str(s), str(p), rc=None)
    ran = gs(r, "undo", rc=1)
    assert "no longer in the store" in ran.err, ran.err
    assert (r / "local.ini").read_bytes() == BRANCH["local.ini"]
