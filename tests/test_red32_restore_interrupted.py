"""RED32 C3 and C8: a restore in place stopped by Ctrl-C or SIGTERM.

C3: Ctrl-C said "restore stopped at f502.txt: No such file or directory" (the file is there)
or just "interrupted", naming neither the pre-restore snapshot nor what to do. The interrupt
came as os.rename of a file in the way returned; the cleanup's unlink of the temp name (gone:
renamed) raised FileNotFoundError, which replaced the KeyboardInterrupt. Now one line says the
restore was interrupted, which snapshot holds what was there before, and that the same command
finishes the job.

C8: SIGTERM (a plain kill, an IDE's stop button) killed the restore at once, and between the
link of a file's temp name and its rename it left a .gsnap-tmp-* file in the worktree (git
status showed it). A restore now takes SIGTERM and SIGHUP as Ctrl-C, and an interrupt at the
link or the rename leaves no temp name."""

from __future__ import annotations

import os
import signal
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
    monkeypatch: pytest.MonkeyPatch, name: str, calls: int, then: Callable[[], None]
) -> None:
    """os.NAME works as ever, but *then* runs as the *calls*-th call on a temp name returns
    (once): a signal that arrives as the system call ends."""
    real = getattr(os, name)
    seen = [0]

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        out = real(*args, **kwargs)
        if b".gsnap-tmp-" in os.fsencode(args[0]) + os.fsencode(args[1]):
            seen[0] += 1
            if seen[0] == calls:
                then()
        return out

    monkeypatch.setattr(os, name, wrapped)


def _interrupt() -> None:
    raise KeyboardInterrupt


def _leftovers(repo: Path) -> list[str]:
    return [n for n in os.listdir(repo) if n.startswith(".gsnap-tmp-")]


def _restore_in_place(repo: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    rc = main(["-C", str(repo), "restore", "1", "--delete"])
    return rc, capsys.readouterr().err


def _finished_by_the_same_command(repo: Path) -> None:
    assert not _leftovers(repo)
    gs(repo, "restore", "1", "--delete")
    for i in range(FILES):
        assert (repo / f"f{i:02}.txt").read_text() == f"first {i}\n"
    assert not _leftovers(repo)


@pytest.mark.parametrize("call", ["rename", "link"])
def test_ctrl_c_as_a_file_is_put_in_place(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], call: str
) -> None:
    _edited(repo)
    _after(monkeypatch, call, 5, _interrupt)
    rc, err = _restore_in_place(repo, capsys)
    assert rc == 130, err
    assert "No such file" not in err and "stopped at" not in err, err
    assert len(err.strip().splitlines()) == 1, err
    assert "restore interrupted" in err, err
    assert "what was there before is in snapshot 2" in err, err
    assert "run the same command again to finish" in err, err
    assert (repo / "f39.txt").read_text() == "edited 39\n"  # not reached
    _finished_by_the_same_command(repo)
    assert gs(repo, "cat", "2", "f39.txt").out == "edited 39\n"


def test_sigterm_is_taken_as_ctrl_c(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _edited(repo)
    before = signal.getsignal(signal.SIGTERM)
    _after(monkeypatch, "link", 3, lambda: os.kill(os.getpid(), signal.SIGTERM))
    rc, err = _restore_in_place(repo, capsys)
    assert rc == 130, err
    assert "restore interrupted" in err and "snapshot 2" in err, err
    assert signal.getsignal(signal.SIGTERM) == before  # put back once the restore is over
    _finished_by_the_same_command(repo)


def test_interrupted_before_writing_says_so(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _edited(repo)
    from git_snapshot.store import restorer

    def stop(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(restorer.Restorer, "_prepare", stop)
    rc, err = _restore_in_place(repo, capsys)
    assert rc == 130, err
    assert "before it wrote anything" in err, err
    assert (repo / "f00.txt").read_text() == "edited 0\n"


def test_interrupted_while_the_pre_restore_snapshot_is_taken(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _edited(repo)
    from git_snapshot import worktree

    def stop(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(worktree, "take", stop)
    rc, err = _restore_in_place(repo, capsys)
    assert rc == 130, err
    assert "before it wrote anything" in err, err
