"""RED34 D5: a restore in place that stops part way (the worktree's disk fills, Ctrl-C) and
the same command run again.

The line of a restore stopped by a full disk named no snapshot (a Ctrl-C'd one's does), though
it had already written over the user's edits. The run again took a second pre-restore snapshot
(of what the first run left: the restored versions) and said "what was there before is in
snapshot 3"; the edits were in snapshot 2. Now every line of a stopped restore names its
pre-restore snapshot, and a run again names the first run's (snapshot 2), alone when its own
holds nothing more than that one and what the first run wrote, else beside its own."""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from clihelpers import gs

from git_snapshot.cli import main

FILES = 40


def _edited(repo: Path) -> None:
    for i in range(FILES):
        (repo / f"f{i:02}.txt").write_text(f"first {i}\n")
    gs(repo, "create")  # 1
    for i in range(FILES):
        (repo / f"f{i:02}.txt").write_text(f"edited {i}\n")


def _after(
    monkeypatch: pytest.MonkeyPatch, calls: int, then: Callable[[], None]
) -> Callable[[], None]:
    """os.rename works as ever, but *then* runs instead of the *calls*-th rename of a temp name
    into place (and every one after it, as a full disk does), until the function returned is
    called."""
    real = os.rename
    seen = [0]
    on = [True]

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if on[0] and b".gsnap-tmp-" in os.fsencode(args[0]):
            seen[0] += 1
            if seen[0] >= calls:
                then()
        return real(*args, **kwargs)

    monkeypatch.setattr(os, "rename", wrapped)
    return lambda: on.__setitem__(0, False)


def _full() -> None:
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def _interrupt() -> None:
    raise KeyboardInterrupt


def _stopped(
    repo: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    then: Callable[[], None],
) -> str:
    """A restore of snapshot 1 in place stopped part way by *then*: its error line."""
    _edited(repo)
    off = _after(monkeypatch, 10, then)
    rc = main(["-C", str(repo), "restore", "1"])
    off()
    err = capsys.readouterr().err
    assert rc != 0, err
    written = [i for i in range(FILES) if (repo / f"f{i:02}.txt").read_text() == f"first {i}\n"]
    assert written and len(written) < FILES, written  # part of it, over the edits
    return err


def test_a_full_disk_line_names_the_pre_restore_snapshot(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    err = _stopped(repo, monkeypatch, capsys, _full)
    assert "No space left on device" in err, err
    assert "free space on that disk and restore again" in err, err
    assert "what was there before is in snapshot 2" in err, err
    assert len(err.strip().splitlines()) == 1, err
    assert gs(repo, "cat", "2", "f00.txt").out == "edited 0\n"


@pytest.mark.parametrize("then", [_full, _interrupt], ids=["full-disk", "ctrl-c"])
def test_run_again_names_the_first_runs_pre_restore_snapshot(
    repo: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    then: Callable[[], None],
) -> None:
    _stopped(repo, monkeypatch, capsys, then)
    last = gs(repo, "restore", "1").out.strip().splitlines()[-1]
    assert last.endswith("; what was there before is in snapshot 2"), last
    for i in range(FILES):
        assert (repo / f"f{i:02}.txt").read_text() == f"first {i}\n"
        assert gs(repo, "cat", "2", f"f{i:02}.txt").out == f"edited {i}\n"
    # a third run after the second finished names its own (RED39 G4: snapshot 2 holds the
    # edits, not what the third run found), and the first run's for the edits (review39 RG)
    last = gs(repo, "restore", "1").out.strip().splitlines()[-1]
    assert last.endswith(
        "; what was there before is in snapshot 4, and before the first run of this restore "
        "in snapshot 2"
    ), last
    listed = gs(repo, "list").out
    assert "before restoring snapshot 1 again" in listed, listed


def test_a_change_between_the_runs_names_both(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _stopped(repo, monkeypatch, capsys, _full)
    (repo / "f39.txt").unlink()  # space freed in the worktree: in snapshot 2 only
    (repo / "new.txt").write_text("made between the runs\n")  # in snapshot 3 only
    last = gs(repo, "restore", "1").out.strip().splitlines()[-1]
    assert last.endswith(
        "; what was there before is in snapshot 3, and before the first run of this restore "
        "in snapshot 2"
    ), last
    assert gs(repo, "cat", "3", "new.txt").out == "made between the runs\n"
    assert gs(repo, "cat", "2", "f00.txt").out == "edited 0\n"


def test_another_restore_after_one_names_its_own(repo: Path) -> None:
    _edited(repo)
    gs(repo, "restore", "1", "f00.txt")  # 2 before it
    last = gs(repo, "restore", "1").out.strip().splitlines()[-1]  # another restore: 3
    assert last.endswith("; what was there before is in snapshot 3"), last
