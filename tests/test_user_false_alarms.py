"""False alarms a daily user meets with the plain hooks: a `git checkout B` that refuses to
write over uncommitted edits reported as destroying one.

The everyday sequence: an edit, a snapshot (`git snapshot`, any hook's, the watcher's), more
edits, `git commit -a`, `git checkout main`. The post-checkout hook compares the worktree with
that earlier snapshot, whose version of the file is in no commit, and said "git checkout
destroyed 1 file with uncommitted edits: a.txt (an earlier version ...)": nothing was lost
(the newer version is committed, and a plain switch refuses to run over an uncommitted edit of
a file the commits differ in), and pasting the printed restore command put the stale version
over main's file."""

from __future__ import annotations

from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from hookhelpers import commit
from hookhelpers import install
from hookhelpers import put_venv_on_path


@pytest.fixture
def hooked(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    put_venv_on_path(monkeypatch)
    commit(repo, ".gitignore", b".env\n")
    commit(repo, "a.txt", b"committed a\n")
    install(repo)
    git(repo, "checkout", "-q", "-b", "topic")
    return repo


@pytest.mark.parametrize("switch", [["checkout", "main"], ["switch", "main"]])
def test_a_committed_edit_is_not_reported_lost_by_a_branch_switch(
    hooked: Path, switch: list[str]
) -> None:
    (hooked / "a.txt").write_bytes(b"committed a\nfirst edit\n")
    gs(hooked, "-m", "a checkpoint")
    (hooked / "a.txt").write_bytes(b"committed a\nfirst edit\nsecond edit\n")
    git(hooked, "commit", "-q", "-a", "-m", "a.txt done")
    ran = git(hooked, *switch)
    assert ran.reports == [] and "destroyed" not in ran.out + ran.err, ran.err
    assert gs(hooked, "losses", "--json").out.strip() == "[]"
    assert (hooked / "a.txt").read_bytes() == b"committed a\n"  # main's, as git wrote it


def test_a_file_committed_since_the_snapshot_is_not_reported_lost(hooked: Path) -> None:
    """An untracked file in the snapshot, edited, added and committed on the branch: switching
    back to main deletes it, clean; git gives it back from the branch."""
    (hooked / "notes.txt").write_bytes(b"draft\n")
    gs(hooked)
    commit(hooked, "notes.txt", b"draft, finished\n")
    ran = git(hooked, "checkout", "main")
    assert ran.reports == [], ran.err
    assert not (hooked / "notes.txt").exists()


def test_a_forced_switch_over_an_edit_is_still_reported(hooked: Path) -> None:
    """The control: `checkout -f` does write over uncommitted edits."""
    (hooked / "a.txt").write_bytes(b"committed a\nfirst edit\n")
    gs(hooked)
    (hooked / "a.txt").write_bytes(b"committed a\nfirst edit\nsecond edit\n")
    git(hooked, "commit", "-q", "-a", "-m", "a.txt done")
    (hooked / "a.txt").write_bytes(b"an uncommitted edit\n")
    gs(hooked)
    ran = git(hooked, "checkout", "-f", "main")
    (report,) = ran.reports
    assert report.names == "a.txt" and report.exact is False, ran.err


def test_an_ignored_file_a_switch_overwrites_is_still_reported(hooked: Path) -> None:
    """The control: git overwrites an ignored file silently (C1 of docs/PROTECTION.md)."""
    commit(hooked, ".env", b"from the branch\n", force=True)
    git(hooked, "checkout", "-q", "main")
    (hooked / ".env").write_bytes(b"mine\n")
    gs(hooked)
    ran = git(hooked, "checkout", "topic")
    (report,) = ran.reports
    assert report.names == ".env", ran.err


def test_a_forced_switch_through_an_alias_is_still_reported(hooked: Path) -> None:
    """The control: the hook cannot see what an alias stands for (`fco` = `checkout -f`)."""
    git(hooked, "config", "alias.fco", "checkout -f")
    (hooked / "a.txt").write_bytes(b"committed a\nfirst edit\n")
    gs(hooked)
    (hooked / "a.txt").write_bytes(b"committed a\nfirst edit\nsecond edit\n")
    git(hooked, "commit", "-q", "-a", "-m", "a.txt done")
    (hooked / "a.txt").write_bytes(b"an uncommitted edit\n")
    gs(hooked)
    ran = git(hooked, "fco", "main")
    (report,) = ran.reports
    assert report.names == "a.txt", ran.err


@pytest.mark.parametrize("merge", ["-m", "--merge", "--conflict=diff3"])
def test_a_merging_switch_over_an_edit_is_still_reported(hooked: Path, merge: str) -> None:
    """The control: `checkout -m B` merges an uncommitted edit into B's version (cleanly
    here): the file as it was is in no commit. (With a conflict, git's index keeps the
    edit as a stage: git gives it back, nothing is named.)"""
    lines = [b"line %d\n" % i for i in range(1, 8)]
    git(hooked, "checkout", "-q", "main")
    commit(hooked, "a.txt", b"".join(lines))
    git(hooked, "checkout", "-q", "-B", "topic")
    (hooked / "a.txt").write_bytes(b"".join([b"line 1, first edit\n", *lines[1:]]))
    gs(hooked)
    (hooked / "a.txt").write_bytes(b"".join([b"line 1, committed\n", *lines[1:]]))
    git(hooked, "commit", "-q", "-a", "-m", "a.txt done")
    edited = b"".join([b"line 1, committed\n", *lines[1:6], b"line 7, uncommitted\n"])
    (hooked / "a.txt").write_bytes(edited)
    gs(hooked)
    ran = git(hooked, "checkout", merge, "main")
    assert (hooked / "a.txt").read_bytes() == b"".join([*lines[:6], b"line 7, uncommitted\n"])
    (report,) = ran.reports
    assert report.names == "a.txt", ran.err


def test_a_committed_edit_is_not_reported_lost_by_a_merge_without_a_snapshot_before(
    hooked: Path,
) -> None:
    """Through pre-commit (or any setup without reference-transaction) post-merge compares
    with an earlier snapshot: a merge that rewrote a file whose edit was committed since said
    'git merge destroyed 1 file with uncommitted edits'. git merge refuses to run over an
    uncommitted edit of a file it must write (autostash puts one back, merged)."""
    lines = [b"line %d\n" % i for i in range(1, 8)]
    git(hooked, "checkout", "-q", "main")
    commit(hooked, "a.txt", b"".join(lines))
    git(hooked, "checkout", "-q", "-B", "topic")
    commit(hooked, "a.txt", b"".join([*lines[:6], b"line 7, topic\n"]))
    git(hooked, "checkout", "-q", "main")
    (hooked / ".git" / "hooks" / "reference-transaction").unlink()  # as under pre-commit
    (hooked / "a.txt").write_bytes(b"".join([b"line 1, first edit\n", *lines[1:]]))
    gs(hooked)
    (hooked / "a.txt").write_bytes(b"".join([b"line 1, committed\n", *lines[1:]]))
    git(hooked, "commit", "-q", "-a", "-m", "a.txt done")
    ran = git(hooked, "merge", "--no-edit", "topic")
    assert (hooked / "a.txt").read_bytes() == b"".join(
        [b"line 1, committed\n", *lines[1:6], b"line 7, topic\n"]
    )
    assert ran.reports == [] and "destroyed" not in ran.out + ran.err, ran.err


def test_an_ignored_file_a_merge_overwrites_is_still_reported_without_a_snapshot_before(
    hooked: Path,
) -> None:
    """The control: C3 of docs/PROTECTION.md through pre-commit (an earlier snapshot only)."""
    commit(hooked, ".env", b"from the branch\n", force=True)
    git(hooked, "checkout", "-q", "main")
    (hooked / ".git" / "hooks" / "reference-transaction").unlink()
    (hooked / ".env").write_bytes(b"mine\n")
    gs(hooked)
    ran = git(hooked, "merge", "topic")
    (report,) = ran.reports
    assert report.names == ".env" and report.exact is False, ran.err
