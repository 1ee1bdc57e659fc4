"""A merge (fast-forward or real; also `git pull`) and the paths snapshots leave out
(snapshot.exclude), fixK's noted item (session 42): a merge that deleted or rewrote the
tracked files of an excluded folder printed `not saved: v, excluded by snapshot.exclude`,
though git deleted only files holding the commit's version (post-merge did not get the rule
lostfrom._switch_kept gives a plain switch). A merge writes the worktree by a plain switch's
rules (checked on git 2.39: it refuses to write over or delete a tracked file with an edit
its stat check sees, staged too, and an untracked file no ignore rule matches; it writes over
an ignored one), with the commit HEAD was at before it (ORIG_HEAD) as the one it left. A
merge with an autostash (`--autostash`) is left as it was: its `reset --hard` writes over an
edit (the stash keeps it).

A rebase (post-rewrite) printed the same line. It gets the rule when it ran through in one
`git rebase` (or `git pull --rebase`) with picks only, over every path its moves wrote (a
pick may write over an ignored file and a later one delete it: neither ORIG_HEAD nor HEAD
holds it); not after a stop (`--continue`), where the user may have put an ignored file
where a later pick writes, nor with `exec` or `edit` lines.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from hookhelpers import commit
from hookhelpers import left_out_bin
from hookhelpers import left_out_folder
from hookhelpers import write


def _unsaved(said: list[str]) -> list[str]:
    return [ln for ln in said if "not saved" in ln]


@pytest.fixture
def folder(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """*repo* on main: a.txt and v/t.txt committed, /v/ left out of snapshots, gen.txt
    ignored, the hooks installed; branch `other` without v/ (made with the hooks on)."""
    write(repo / ".gitignore", b"gen.txt\n")
    git(repo, "add", ".gitignore")
    left_out_folder(repo, monkeypatch)
    git(repo, "checkout", "-q", "main")
    return repo


def _diverge(r: Path) -> None:
    """A commit on main that `other` lacks: merging it is a real merge."""
    commit(r, "b.txt", b"b\n")


MERGES = {
    "ff": ["merge", "-q", "other"],
    "ff-only": ["merge", "-q", "--ff-only", "other"],
    "no-ff": ["merge", "-q", "--no-ff", "--no-edit", "other"],
    "real": ["merge", "-q", "--no-edit", "other"],
    "pull": ["pull", "-q", "--no-rebase", ".", "other"],
    "pull-ff-only": ["pull", "-q", "--ff-only", ".", "other"],
    "real-pull": ["pull", "-q", "--no-rebase", "--no-edit", ".", "other"],
}


@pytest.mark.parametrize("how", list(MERGES))
def test_a_merge_deleting_a_clean_left_out_folder_names_nothing(folder: Path, how: str) -> None:
    r = folder
    if how.startswith("real"):
        _diverge(r)
    ran = git(r, *MERGES[how])
    assert not (r / "v").exists()
    assert _unsaved(ran.said) == [], ran.said


def test_a_merge_rewriting_a_clean_left_out_file_names_nothing(folder: Path) -> None:
    r = folder
    git(r, "checkout", "-q", "-b", "changed")
    commit(r, "v/t.txt", b"changed\n")
    git(r, "checkout", "-q", "main")
    _diverge(r)
    ran = git(r, "merge", "-q", "--no-edit", "changed")
    assert (r / "v" / "t.txt").read_bytes() == b"changed\n"
    assert _unsaved(ran.said) == [], ran.said


def test_an_untracked_file_in_the_left_out_folder_a_merge_keeps_is_not_named(
    folder: Path,
) -> None:
    r = folder
    write(r / "v" / "mine.txt", b"mine\n")
    ran = git(r, "merge", "-q", "other")
    assert (r / "v" / "mine.txt").read_bytes() == b"mine\n"  # git leaves it
    assert not (r / "v" / "t.txt").exists()
    assert _unsaved(ran.said) == [], ran.said


# ---------------------------------------------------------------- controls: still named


def _third(r: Path) -> None:
    """Branch `third`: main plus v/gen.txt (ignored, added with -f)."""
    git(r, "checkout", "-q", "-b", "third")
    commit(r, "v/gen.txt", b"theirs\n", force=True)
    git(r, "checkout", "-q", "main")


@pytest.mark.parametrize("real", [False, True], ids=["ff", "real"])
def test_an_ignored_file_in_the_left_out_folder_a_merge_overwrote_is_named(
    folder: Path, real: bool
) -> None:
    r = folder
    _third(r)
    if real:
        _diverge(r)
    write(r / "v" / "gen.txt", b"mine, ignored, in no snapshot\n")
    ran = git(r, "merge", "-q", "--no-edit", "third")
    assert (r / "v" / "gen.txt").read_bytes() == b"theirs\n"  # git overwrote it
    assert any(" v" in ln for ln in _unsaved(ran.said)), ran.said


def test_an_edit_a_clean_filter_hides_that_a_merge_deleted_is_named(folder: Path) -> None:
    """An edit git does not see (the clean filter drops the line): the merge deletes it."""
    r = folder
    git(r, "config", "filter.drop.clean", "sed '/^SECRET/d'")
    git(r, "config", "filter.drop.smudge", "cat")
    write(r / ".git" / "info" / "attributes", b"v/* filter=drop\n")
    write(r / "v" / "t.txt", b"tracked\nSECRET mine, in no snapshot\n")
    git(r, "add", "v/t.txt")  # (nbstripout's everyday case: the index takes the file's stat)
    assert git(r, "status", "--porcelain", "--", "v").out == ""  # git sees no edit
    ran = git(r, "merge", "-q", "other")
    assert not (r / "v").exists()
    assert any(" v" in ln for ln in _unsaved(ran.said)), ran.said


# a monitor that misses every event (fsmonitor hook protocol 2: a token, no path)
LIE = b"#!/bin/sh\nprintf 'tok\\0'\n"


def test_an_edit_a_missed_fsmonitor_event_let_a_merge_delete_is_named(
    folder: Path, tmp_path: Path
) -> None:
    r = folder
    (tmp_path / "lie.sh").write_bytes(LIE)
    (tmp_path / "lie.sh").chmod(0o755)
    git(r, "config", "core.fsmonitor", str(tmp_path / "lie.sh"))
    git(r, "config", "core.fsmonitorHookVersion", "2")
    gs(r, "-m", "before")
    old = (r / "v" / "t.txt").stat().st_mtime - 100  # (not racy: git trusts the monitor)
    os.utime(r / "v" / "t.txt", (old, old))
    git(r, "update-index", "-q", "--refresh")
    git(r, "update-index", "--fsmonitor-valid", "v/t.txt")
    write(r / "v" / "t.txt", b"MY EDIT\n")
    ran = git(r, "merge", "-q", "other")
    assert not (r / "v").exists()  # git deleted the edit
    assert any(" v" in ln for ln in _unsaved(ran.said)), ran.said


@pytest.fixture
def binfile(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return left_out_bin(repo, monkeypatch)  # `other` tracks x.bin, left out and ignored


@pytest.mark.parametrize("real", [False, True], ids=["ff", "real"])
def test_a_left_out_file_made_since_the_last_snapshot_a_merge_overwrote_is_named(
    binfile: Path, real: bool
) -> None:
    r = binfile
    if real:
        _diverge(r)
    write(r / "x.bin", b"mine, left out\n")
    # a hook's snapshot with nothing else changed: the root is the last one's
    git(r, "checkout", "-q", "-b", "tmp")
    git(r, "checkout", "-q", "main")
    ran = git(r, "merge", "-q", "--no-edit", "other")
    assert (r / "x.bin").read_bytes() == b"theirs\n"
    assert any("x.bin" in ln for ln in _unsaved(ran.said)), ran.said


# ---------------------------------------------------------------- a rebase (post-rewrite)


@pytest.mark.parametrize("how", ["rebase", "pull-rebase"])
def test_a_rebase_deleting_a_clean_left_out_folder_names_nothing(folder: Path, how: str) -> None:
    r = folder
    _diverge(r)
    if how == "rebase":
        ran = git(r, "rebase", "-q", "other")
    else:
        ran = git(r, "pull", "-q", "--rebase", ".", "other")
    assert not (r / "v").exists()
    assert (r / "b.txt").exists()
    assert _unsaved(ran.said) == [], ran.said


def test_an_ignored_file_in_the_left_out_folder_a_rebase_overwrote_is_named(
    folder: Path,
) -> None:
    r = folder
    _third(r)
    _diverge(r)
    write(r / "v" / "gen.txt", b"mine, ignored, in no snapshot\n")
    ran = git(r, "rebase", "-q", "third")
    assert (r / "v" / "gen.txt").read_bytes() == b"theirs\n"  # its checkout of onto wrote it
    assert any(" v" in ln for ln in _unsaved(ran.said)), ran.said


@pytest.mark.parametrize("stop", ["edit", "conflict"])
def test_an_ignored_file_made_at_a_stop_a_later_pick_overwrote_is_named(
    folder: Path, stop: str
) -> None:
    """At a stop the user writes an ignored file where a later pick writes a file ORIG_HEAD
    tracks: git overwrites it (the continue's post-rewrite). An `edit` is in the todo; a
    conflict is not, only the `--continue` shows it."""
    r = folder
    git(r, "checkout", "-q", "-b", "up")
    commit(r, "v/o.txt", b"up\n")
    commit(r, "a.txt", b"up\n")
    git(r, "checkout", "-q", "-b", "mine", "main")
    if stop == "conflict":
        commit(r, "a.txt", b"mine\n")
    else:
        commit(r, "b.txt", b"b\n")
    commit(r, "v/gen.txt", b"theirs\n", force=True)
    if stop == "edit":
        git(r, "rebase", "-q", "-i", "up", GIT_SEQUENCE_EDITOR="sed -i '1s/^pick/edit/'")
    else:
        git(r, "rebase", "-q", "up", rc=None)
        write(r / "a.txt", b"resolved\n")
        git(r, "add", "a.txt")
    assert (r / ".git" / "rebase-merge").is_dir()  # stopped
    assert not (r / "v" / "gen.txt").exists()  # before the pick that adds it
    write(r / "v" / "gen.txt", b"mine, ignored, in no snapshot\n")
    ran = git(r, "rebase", "--continue", GIT_EDITOR="true")
    assert (r / "v" / "gen.txt").read_bytes() == b"theirs\n"
    assert any(" v" in ln for ln in _unsaved(ran.said)), ran.said


def test_an_ignored_file_a_pick_overwrote_and_a_later_one_deleted_is_named(folder: Path) -> None:
    """Neither ORIG_HEAD nor HEAD holds the path: only the rebase's moves show it written."""
    r = folder
    git(r, "checkout", "-q", "-b", "up")
    commit(r, "v/o.txt", b"up\n")
    git(r, "checkout", "-q", "-b", "mine", "main")
    commit(r, "v/gen.txt", b"theirs\n", force=True)
    git(r, "rm", "-q", "v/gen.txt")
    git(r, "commit", "-qm", "drop gen")
    write(r / "v" / "gen.txt", b"mine, ignored, in no snapshot\n")
    ran = git(r, "rebase", "-q", "up")
    assert not (r / "v" / "gen.txt").exists()
    assert any(" v" in ln for ln in _unsaved(ran.said)), ran.said
