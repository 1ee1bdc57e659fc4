"""RED38 B2: a loss report names what a file was just before the command, not what it was
when it was saved.

A colleague commits (``git add -f``) a file the user has as an ignored one; the user's
checkout of that commit writes over it (reported: an ignored file), ``git snapshot undo``
puts the user's bytes back, so the file is now *tracked* with uncommitted edits. A later
``git checkout -- .`` discards that edit: it was reported as "1 ignored file" (``kind:
"ignored"`` in ``losses --json``), the label of the snapshot the restore wrote it from,
taken while the file was ignored. The restore wrote those bytes; git's index, which makes
a file tracked, untracked or ignored, is what the pre-restore snapshot recorded.

Real git, the plain hooks installed as a user installs them.
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
from hookhelpers import side_commit
from hookhelpers import write

MINE = b'{"mine": 1}\n'  # the user's own config, ignored when it was saved
SHARED = b'{"shared": 1}\n'  # the colleague's, committed with add -f
LOCAL = b"[local]\nmine = 1\n"  # local.ini: ignored all along


@pytest.fixture
def tracked_now(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """config.local.json ignored and edited; branch `other` tracks it; `git checkout other`
    wrote over it (reported) and `git snapshot undo` put the user's bytes back: it is a
    tracked file with an uncommitted edit now, as `git status` says."""
    put_venv_on_path(monkeypatch)
    commit(repo, ".gitignore", b"config.local.json\nlocal.ini\n")
    side_commit(repo, "other", {"config.local.json": SHARED})
    install(repo)
    write(repo / "config.local.json", MINE)
    write(repo / "local.ini", LOCAL)
    gs(repo, "create")
    ran = git(repo, "checkout", "-q", "other")
    (rep,) = ran.reports
    assert (rep.kinds, rep.names) == ("1 ignored file", "config.local.json"), ran.err
    gs(repo, "undo")
    assert (repo / "config.local.json").read_bytes() == MINE
    assert git(repo, "status", "--porcelain", "config.local.json").out == " M config.local.json\n"
    return repo


def test_a_discarded_edit_of_a_file_tracked_now_is_named_as_one(tracked_now: Path) -> None:
    r = tracked_now
    ran = git(r, "checkout", "--", ".")
    assert (r / "config.local.json").read_bytes() == SHARED
    (rep,) = ran.reports
    assert rep.names == "config.local.json", ran.err
    assert rep.kinds == "1 file with uncommitted edits", ran.err
    last = json.loads(gs(r, "losses", "--json").out)[-1]
    assert [(x["path"], x["kind"]) for x in last["lost"]] == [("config.local.json", "tracked")]
    # the restore command it prints still brings back the exact bytes
    gs(r, "undo")
    assert (r / "config.local.json").read_bytes() == MINE


def test_a_restored_file_ignored_still_is_named_ignored(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The other way round: a restored file the index does not hold stays ignored."""
    put_venv_on_path(monkeypatch)
    commit(repo, ".gitignore", b"local.ini\n")
    side_commit(repo, "other", {"local.ini": b"branch ini\n"})
    install(repo)
    write(repo / "local.ini", LOCAL)
    snap = json.loads(gs(repo, "create", "--json").out)["id"]
    write(repo / "local.ini", b"replaced\n")
    gs(repo, "restore", str(snap), "local.ini")
    ran = git(repo, "checkout", "-q", "other")
    (rep,) = ran.reports
    assert (rep.kinds, rep.names, rep.snap) == ("1 ignored file", "local.ini", snap), ran.err
