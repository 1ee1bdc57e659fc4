"""Review of da5a3b3 (session 43, RR43; fixR's note, "Found, left" 2): under
core.trustctime=false (or core.checkStat=minimal) git's stat check takes a tracked file whose
edit kept its size and mtime (`cp -p`, `rsync -t`, an archive tool writing in place) as
unchanged, without reading it, and a plain checkout or merge deletes it. Every rule that
drops a path because "git refuses to write over an edit" (lostfrom._not_tracked_in after a
switch or merge, lostfrom._switch_kept for a left-out folder) then hid what a snapshot held, or
the "not saved" line for a left-out folder. As under core.fsmonitor, the rules are not
trusted there."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from hookhelpers import commit
from hookhelpers import install
from hookhelpers import named_lost
from hookhelpers import put_venv_on_path

EDIT = b"MY EDIT\n"  # the size of b"tracked\n"


def _stat_blind_edit(repo: Path, rel: str) -> None:
    """Write EDIT over *rel* in place, its size and mtime kept (what `cp -p` does), after an
    index refresh that records an mtime well in the past (not racy: git trusts the stat)."""
    path = repo / rel
    old = path.stat().st_mtime - 100
    os.utime(path, (old, old))
    git(repo, "update-index", "-q", "--refresh")
    st = path.stat()
    with open(path, "r+b") as f:
        f.write(EDIT)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert git(repo, "status", "--porcelain", "--", rel).out == ""  # git sees no edit


def _setup(repo: Path, monkeypatch: pytest.MonkeyPatch, rel: str) -> None:
    """*repo* on main: a.txt and *rel* (b"tracked\\n") committed, /v/ left out, hooks
    installed, branch `other` without *rel*, a commit on main `other` lacks (a merge of it is
    real), core.trustctime false."""
    put_venv_on_path(monkeypatch)
    commit(repo, "a.txt", b"base\n")
    commit(repo, rel, b"tracked\n")
    git(repo, "config", "snapshot.exclude", "/v/")
    install(repo)
    git(repo, "checkout", "-q", "-b", "other")
    git(repo, "rm", "-q", rel)
    git(repo, "commit", "-qm", "gone")
    git(repo, "checkout", "-q", "main")
    commit(repo, "b.txt", b"b\n")
    git(repo, "config", "core.trustctime", "false")


@pytest.mark.parametrize("op", ["checkout", "merge", "ff-merge"])
def test_an_edit_git_s_stat_check_missed_that_a_switch_or_merge_deleted_is_named(
    repo: Path, monkeypatch: pytest.MonkeyPatch, op: str
) -> None:
    _setup(repo, monkeypatch, "t.txt")
    if op == "ff-merge":
        git(repo, "reset", "-q", "--hard", "HEAD~1")  # (main is other's parent again)
    _stat_blind_edit(repo, "t.txt")
    gs(repo, "-m", "holds the edit")
    if op == "checkout":
        ran = git(repo, "checkout", "-q", "other")
    else:
        ran = git(repo, "merge", "-q", "--no-edit", "other")
    assert not (repo / "t.txt").exists()  # git deleted the edit
    assert "t.txt" in named_lost(repo), ran.said


@pytest.mark.parametrize("op", ["checkout", "merge"])
def test_an_edit_in_a_left_out_folder_git_s_stat_check_missed_is_named_not_saved(
    repo: Path, monkeypatch: pytest.MonkeyPatch, op: str
) -> None:
    _setup(repo, monkeypatch, "v/t.txt")
    _stat_blind_edit(repo, "v/t.txt")
    if op == "checkout":
        ran = git(repo, "checkout", "-q", "other")
    else:
        ran = git(repo, "merge", "-q", "--no-edit", "other")
    assert not (repo / "v").exists()  # git deleted the edit
    assert any("not saved: v" in ln for ln in ran.said), ran.said


@pytest.mark.parametrize(
    ("settings", "blind"),
    [
        ([], False),
        ([("core.trustctime", "false")], True),
        ([("core.trustctime", "0")], True),
        ([("core.trustctime", "true")], False),
        ([("core.checkStat", "minimal")], True),
        ([("core.checkStat", "MINIMAL")], True),
        ([("core.checkStat", "default")], False),
        ([("core.checkStat", "minimal"), ("core.checkStat", "default")], False),
    ],
)
@pytest.mark.parametrize("remember", [False, True], ids=["command", "hook"])
def test_which_settings_blind_git_s_stat_check(
    repo: Path, settings: list[tuple[str, str]], blind: bool, remember: bool
) -> None:
    """core.checkStat=minimal leaves git the whole second of the mtime and ctime and the size
    (a same-size edit in the second of the last one is not seen): no end-to-end test here, its
    outcome hangs on the clock. A hook reads them from its one config call (remember)."""
    from git_snapshot import gitextra
    from git_snapshot import gitrepo

    for key, value in settings:
        git(repo, "config", "--add", key, value)
    assert gitextra.stat_blind(gitrepo.find_repo(str(repo), remember=remember)) is blind


def test_a_left_out_file_whose_edit_a_plain_switch_wrote_over_is_named_not_saved(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """leftout.discarded_unsaved names a left-out file a switch between commits that differ
    there wrote over only after a forced switch, or where git's stat check may miss an edit:
    under core.trustctime false a plain switch writes other's version over the edit too."""
    put_venv_on_path(monkeypatch)
    commit(repo, "t.txt", b"tracked\n")
    git(repo, "config", "snapshot.exclude", "/t.txt")
    install(repo)
    git(repo, "checkout", "-q", "-b", "other")
    commit(repo, "t.txt", b"theirs\n")
    git(repo, "checkout", "-q", "main")
    git(repo, "config", "core.trustctime", "false")
    _stat_blind_edit(repo, "t.txt")
    gs(repo, "-m", "leaves t.txt out")
    ran = git(repo, "checkout", "-q", "other")
    assert (repo / "t.txt").read_bytes() == b"theirs\n"  # git wrote over the edit
    assert any("not saved" in ln and "t.txt" in ln for ln in ran.said), ran.said
