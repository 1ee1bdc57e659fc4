"""Red team (session 13): the hook's 'not saved ... git wrote its committed version over an
uncommitted edit' line (b9cdaf0, d4290d2) for a file that held no edit. git rewrites a file
at `checkout -- F` whenever its stat differs from the index's, content unchanged or not: a
file merely touched (an editor's save without a change, a build tool, cp -p) is written
again, its committed version over its committed version. Real git, real hooks."""

from __future__ import annotations

import os
import time
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


@pytest.mark.parametrize("cmd", [["checkout", "--", "settings.ini"], ["checkout", "--", "."]])
def test_a_touched_unedited_excluded_file_that_checkout_rewrites_is_not_said_edited(
    hooked: Path, cmd: list[str]
) -> None:
    r = hooked
    gs(r, "create")
    time.sleep(1.1)
    os.utime(r / "settings.ini")  # touched: its content is HEAD's
    touched = (r / "settings.ini").stat().st_mtime_ns
    ran = git(r, *cmd)
    assert (r / "settings.ini").read_bytes() == b"committed\n"
    assert (r / "settings.ini").stat().st_mtime_ns != touched  # git did write it again
    # it may have held an edit (no snapshot could say): never claimed to have held one
    lines = [ln for ln in ran.said if "not saved: settings.ini" in ln]
    assert len(lines) == 1 and "over an uncommitted edit" not in lines[0], ran.said
    assert "over it: if it held an uncommitted edit, that edit is lost" in lines[0]


@pytest.mark.parametrize(
    "cmd", [["checkout", "-q", "-f", "feature"], ["switch", "-q", "--discard-changes", "feature"]]
)
def test_a_forced_switch_over_an_edit_of_an_excluded_file_the_branch_changes_is_named(
    hooked: Path, cmd: list[str]
) -> None:
    """checkout -f to a branch whose version of the excluded file differs: git writes the
    branch's version over the uncommitted edit, which no snapshot holds and git never had."""
    r = hooked
    side_commit(r, "feature", {"settings.ini": b"the branch's\n"})
    write(r / "settings.ini", b"my uncommitted edit\n")
    gs(r, "create")
    ran = git(r, *cmd)
    assert (r / "settings.ini").read_bytes() == b"the branch's\n"
    lines = [ln for ln in ran.said if "not saved: settings.ini" in ln]
    assert len(lines) == 1 and "excluded by snapshot.exclude" in lines[0], ran.said


@pytest.mark.parametrize(
    "cmd",
    [
        ["checkout", "feature", "--", "settings.ini"],
        ["restore", "--source", "feature", "settings.ini"],
    ],
)
def test_a_path_checkout_from_another_commit_over_an_edit_of_an_excluded_file_is_named(
    hooked: Path, cmd: list[str]
) -> None:
    """checkout B -- F and restore --source B F write B's version over the edit whatever it
    holds (a path checkout never refuses): the edit is in no snapshot and git never had it."""
    r = hooked
    side_commit(r, "feature", {"settings.ini": b"the branch's\n"})
    write(r / "settings.ini", b"my uncommitted edit\n")
    gs(r, "create")
    ran = git(r, *cmd)
    assert (r / "settings.ini").read_bytes() == b"the branch's\n"
    lines = [ln for ln in ran.said if "not saved: settings.ini" in ln]
    assert len(lines) == 1 and "excluded by snapshot.exclude" in lines[0], ran.said


def test_a_path_checkout_over_an_excluded_untracked_file_is_named(hooked: Path) -> None:
    """checkout B -- F over a left-out file HEAD does not track: B's version replaced it."""
    r = hooked
    side_commit(r, "feature", {"local.ini": b"the branch's\n"})
    git(r, "config", "snapshot.exclude", "local.ini")
    write(r / "local.ini", b"mine alone\n")
    gs(r, "create")
    ran = git(r, "checkout", "feature", "--", "local.ini")
    assert (r / "local.ini").read_bytes() == b"the branch's\n"
    lines = [ln for ln in ran.said if "not saved: local.ini" in ln]
    assert len(lines) == 1 and "excluded by snapshot.exclude" in lines[0], ran.said


@pytest.mark.parametrize(
    "cmd",
    [
        ["checkout", "--", "conf/settings.ini"],
        ["checkout", "--", "."],
        ["restore", "conf"],
        ["checkout", "-f"],
    ],
)
def test_a_discarded_edit_of_a_tracked_file_in_an_excluded_folder_is_named(
    repo: Path, monkeypatch: pytest.MonkeyPatch, cmd: list[str]
) -> None:
    """snapshot.exclude names a folder: its tracked files' edits are in no snapshot either."""
    put_venv_on_path(monkeypatch)
    r = repo
    commit(r, "conf/settings.ini", b"committed\n")
    git(r, "config", "snapshot.exclude", "conf/")
    install(r)
    write(r / "conf" / "settings.ini", b"my uncommitted edit\n")
    gs(r, "create")
    ran = git(r, *cmd)
    assert (r / "conf" / "settings.ini").read_bytes() == b"committed\n"
    lines = [ln for ln in ran.said if "not saved: conf" in ln]
    assert len(lines) == 1 and "excluded by snapshot.exclude" in lines[0], ran.said


@pytest.mark.parametrize(
    "cmd",
    [
        ["git", "reset", "-q", "--hard"],
        ["git", "checkout", "--", "conf"],
        ["sh", "-c", "git show HEAD:conf/settings.ini > conf/settings.ini"],
    ],
)
def test_run_names_a_discarded_edit_of_a_tracked_file_in_an_excluded_folder(
    repo: Path, monkeypatch: pytest.MonkeyPatch, cmd: list[str]
) -> None:
    """`run -- CMD` hashes the left-out tracked files before CMD: those below an excluded
    folder too (it took only files named in skipped_paths)."""
    put_venv_on_path(monkeypatch)
    r = repo
    commit(r, "conf/settings.ini", b"committed\n")
    git(r, "config", "snapshot.exclude", "conf/")
    write(r / "conf" / "settings.ini", b"my uncommitted edit\n")
    ran = gs(r, "run", "--", *cmd)
    assert (r / "conf" / "settings.ini").read_bytes() == b"committed\n"
    lines = [ln for ln in ran.said if "not saved: conf/settings.ini" in ln]
    assert len(lines) == 1 and "excluded by snapshot.exclude" in lines[0], ran.said


@pytest.mark.parametrize(
    ("argv", "want"),
    [
        (("git", "checkout", "-f", "B"), True),
        (("git", "checkout", "-qf", "B"), True),
        (("git", "-C", "x", "checkout", "--force", "B"), True),
        (("git", "switch", "--discard-changes", "B"), True),
        (("git", "checkout", "B"), False),
        (("git", "checkout", "-b", "f"), False),  # a branch named f, not -f
        (("git", "checkout", "-bf", "B"), False),  # the same, in one word
        (("git", "switch", "-c", "-f"), False),
        (("git", "checkout", "--orphan", "-f"), False),
        (("git", "checkout", "-qb", "-f"), False),
        (("git", "checkout", "-m", "B"), None),  # a merge into the edit: not plain
        (("git", "switch", "--conflict=diff3", "B"), None),
        (("git", "checkout", "--", "-f"), False),  # a path named -f
        (("git", "co", "B"), None),  # an alias: unknown
        (("git", "merge", "B"), None),
    ],
)
def test_switch_force_reads_the_git_command(
    monkeypatch: pytest.MonkeyPatch, argv: tuple[str, ...], want: bool | None
) -> None:
    from git_snapshot import leftout
    from git_snapshot import proc

    monkeypatch.setattr(proc, "ancestors", lambda: ([proc.Process(1, 0.0, argv)], True))
    assert leftout.switch_force() is want
    assert leftout.forced_switch() is (want is True)


@pytest.mark.parametrize(
    "cmd", [["git", "reset", "-q", "--hard"], ["git", "checkout", "--", "cache"]]
)
def test_run_names_a_discarded_edit_of_a_tracked_file_in_a_cache_folder(
    repo: Path, monkeypatch: pytest.MonkeyPatch, cmd: list[str]
) -> None:
    """A folder holding a CACHEDIR.TAG is left out whole: a file git tracks there too."""
    put_venv_on_path(monkeypatch)
    r = repo
    tag = b"Signature: 8a477f597d28d172789f06886806bc55\n"
    commit(r, "cache/CACHEDIR.TAG", tag)
    commit(r, "cache/data.txt", b"committed\n")
    write(r / "cache" / "data.txt", b"my uncommitted edit\n")
    ran = gs(r, "run", "--", *cmd)
    assert (r / "cache" / "data.txt").read_bytes() == b"committed\n"
    lines = [ln for ln in ran.said if "not saved: cache/data.txt" in ln]
    assert len(lines) == 1 and "CACHEDIR.TAG" in lines[0], ran.said
