"""Red team (session 12): a file the snapshot left out (snapshot.exclude) that git tracks, with
an uncommitted edit that a git command discarded: git holds its committed version, not the
edit, and no snapshot holds the edit. The hook's report said nothing at all (650a05d named
such a file only when the commit git left lacked it). Real git, real hooks."""

from __future__ import annotations

from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from hookhelpers import commit
from hookhelpers import install
from hookhelpers import put_venv_on_path
from hookhelpers import side_commit
from hookhelpers import write


@pytest.fixture
def hooked(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    put_venv_on_path(monkeypatch)
    commit(repo, "settings.ini", b"committed\n")
    commit(repo, "a.txt", b"committed a\n")
    git(repo, "config", "snapshot.exclude", "settings.ini")
    install(repo)
    return repo


@pytest.mark.parametrize(
    "cmd",
    [
        ["checkout", "--", "settings.ini"],
        ["checkout", "-f"],
        ["restore", "settings.ini"],
        ["checkout", "-f", "feature"],
        ["switch", "--discard-changes", "feature"],
    ],
)
def test_a_discarded_edit_of_an_excluded_tracked_file_is_named_unsaved(
    hooked: Path, cmd: list[str]
) -> None:
    r = hooked
    side_commit(r, "feature", {"a.txt": b"feature a\n"})  # settings.ini as committed
    write(r / "settings.ini", b"my uncommitted edit\n")
    gs(r, "create")
    ran = git(r, *cmd)
    assert (r / "settings.ini").read_bytes() == b"committed\n"
    lines = [ln for ln in ran.said if "not saved: settings.ini" in ln]
    assert len(lines) == 1 and "excluded by snapshot.exclude" in lines[0], ran.said


def test_an_unedited_excluded_file_that_a_checkout_changes_is_not_named(hooked: Path) -> None:
    """No false alarm: a branch whose settings.ini differs, no edit: git can give back both."""
    r = hooked
    side_commit(r, "feature", {"settings.ini": b"the branch's\n"})
    gs(r, "create")
    ran = git(r, "checkout", "-q", "feature")
    assert (r / "settings.ini").read_bytes() == b"the branch's\n"
    assert not [ln for ln in ran.said if "not saved" in ln], ran.said
    # forced: git writes main's version whatever the file held, and no snapshot can tell
    # whether it held an edit; a line may say what is lost if it did, never that it did
    # (RED9, the lead's go: silent loss of such an edit otherwise, tests/test_red9_unsaved.py)
    ran = git(r, "checkout", "-q", "-f", "main")
    assert not [ln for ln in ran.said if "over an uncommitted edit" in ln], ran.said


@pytest.mark.parametrize("cmd", [["stash"], ["stash", "-u"], ["stash", "push", "settings.ini"]])
def test_an_edit_a_stash_holds_is_not_named(hooked: Path, cmd: list[str]) -> None:
    """git stash writes the committed version over the edit, and holds the edit itself."""
    r = hooked
    write(r / "settings.ini", b"my uncommitted edit\n")
    gs(r, "create")
    ran = git(r, *cmd)
    assert (r / "settings.ini").read_bytes() == b"committed\n"
    assert not [ln for ln in ran.said if "not saved" in ln], ran.said
    git(r, "stash", "pop")
    assert (r / "settings.ini").read_bytes() == b"my uncommitted edit\n"


@pytest.mark.parametrize(
    "cmd",
    [
        ["git", "reset", "-q", "--hard"],
        ["git", "checkout", "--", "settings.ini"],
        ["git", "reset", "-q", "--hard", "HEAD~1"],
        ["git", "stash"],
        ["git", "commit", "-qam", "kept"],
        ["sh", "-c", "git show HEAD:settings.ini > settings.ini"],
    ],
)
def test_run_names_a_discarded_edit_of_an_excluded_tracked_file(
    hooked: Path, cmd: list[str]
) -> None:
    """`run -- CMD` names the excluded file's edit as not saved when CMD discarded it and git
    holds it nowhere (reset --hard, checkout --), and never when git keeps it (stash, commit)."""
    r = hooked
    write(r / "settings.ini", b"my uncommitted edit\n")
    ran = gs(r, "run", "--", *cmd)
    kept = cmd[1] in ("stash", "commit")
    assert (r / "settings.ini").read_bytes() == (
        b"my uncommitted edit\n" if cmd[1] == "commit" else b"committed\n"
    )
    lines = [ln for ln in ran.said if "not saved: settings.ini" in ln]
    if kept:
        assert lines == [], ran.said
    else:
        assert len(lines) == 1 and "excluded by snapshot.exclude" in lines[0], ran.said


def test_a_hook_after_a_cache_folder_was_left_out_imports_neither_json_nor_losses(
    hooked: Path,
) -> None:
    """The check runs on every hook whose base left something out (a .pytest_cache or
    .mypy_cache holds a CACHEDIR.TAG): it must cost a few lstats, not json's and losses'
    imports (~50 ms); with an excluded file, _json's C scanner reads the meta, not json."""
    import subprocess
    import sys

    code = """
import sys
from types import SimpleNamespace
from git_snapshot import gitrepo, lostfrom
repo = gitrepo.find_repo(sys.argv[1])
def snap(meta):
    return SimpleNamespace(skipped=1, _meta_json=meta, created=0.0, id=1)
fresh = lostfrom._fresh_left_out
assert fresh(repo, snap('{"skipped_paths":[["c","cache directory (CACHEDIR.TAG)"]]}')) == {}
got = fresh(repo, snap('{"head":"x","skipped_paths":[["settings.ini","excluded"]]}'))
assert list(got) == [b"settings.ini"], got
heavy = {"json", "re", "git_snapshot.losses"} & set(sys.modules)
assert not heavy, heavy
"""
    import os

    import git_snapshot

    # -S as the hook runs: no site, so the package's folder is given (an editable install's
    # .pth is site's work)
    top = os.path.dirname(os.path.dirname(git_snapshot.__file__))
    env = dict(os.environ, PYTHONPATH=top)
    res = subprocess.run(
        [sys.executable, "-S", "-c", code, str(hooked)], capture_output=True, text=True, env=env
    )
    assert res.returncode == 0, res.stderr


def test_losses_and_undo_after_a_report_of_only_unsaved_files(hooked: Path) -> None:
    """losses showed '(an earlier version); not saved: F' for a report with no saved loss,
    and undo said there was no loss report (or undid an older command's, over newer files)."""
    r = hooked
    write(r / "a.txt", b"edit a\n")
    gs(r, "create")
    git(r, "checkout", "-q", "--", "a.txt")  # an older report, with a saved copy
    write(r / "a.txt", b"written since\n")
    write(r / "settings.ini", b"my uncommitted edit\n")
    gs(r, "create")
    git(r, "checkout", "-q", "--", "settings.ini")
    rows = gs(r, "losses").out.splitlines()
    assert rows[-1].endswith("not saved: settings.ini") and "earlier" not in rows[-1], rows
    ran = gs(r, "undo", rc=1)
    assert "names only what no snapshot holds (not saved: settings.ini)" in ran.err, ran.err
    assert (r / "a.txt").read_bytes() == b"written since\n"  # the older report not undone


def test_no_false_alarm_for_an_excluded_file_written_just_before_the_snapshot(
    hooked: Path,
) -> None:
    """settings.ini written (committed) a moment before the base snapshot, then a file
    checkout of another path within git's 10 s window: the hook named settings.ini's
    'discarded edit' (it had none: the operation never wrote it)."""
    r = hooked
    write(r / "settings.ini", b"committed\n")  # rewritten now, unedited: HEAD's version
    write(r / "a.txt", b"edit a\n")
    gs(r, "create")
    ran = git(r, "checkout", "-q", "--", "a.txt")
    assert not [ln for ln in ran.said if "not saved: settings.ini" in ln], ran.said
