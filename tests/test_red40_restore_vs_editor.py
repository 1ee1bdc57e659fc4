"""RED40 E1 finding 1: an in-place restore overwrote an edit an editor saved after the
pre-restore snapshot was taken and before the restore wrote that path. The edit was in no
snapshot, yet the restore said "what was there before is in snapshot N" (undo goes the same
way). Now a path that changed since the pre-restore snapshot is left as it is, named on a
``NOT WRITTEN path: changed while the restore ran`` line, and the restore exits 1; run
again, it takes a new pre-restore snapshot holding the edit, then writes.

The editor is a real process (sh: a temp file, then mv over the name, as editors save),
run at a known point: right after the pre-restore snapshot (worktree.take returns), or
while the restore writes the temp file it renames over the name.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from clihelpers import gs
from hookhelpers import after_pre_restore
from hookhelpers import install

from git_snapshot.cli import main
from git_snapshot.store.restorer import Restorer

FILES = 60  # more than the writers' threshold: the whole-tree restore forks its writers
SAVED = "z saved by the editor after the pre-restore snapshot\n"


def _edited(repo: Path) -> None:
    """Snapshot 1 of FILES files and z.txt, then every one of them edited."""
    install(repo)
    for i in range(FILES):
        (repo / f"f{i:03}.txt").write_text(f"old {i}\n")
    (repo / "z.txt").write_text("z old\n")
    gs(repo, "create")  # 1
    for i in range(FILES):
        (repo / f"f{i:03}.txt").write_text(f"new {i}\n")
    (repo / "z.txt").write_text("z edit 1\n")


def _editor_saves(repo: Path) -> None:
    """The editor's save of z.txt: a temp file renamed over it, by another process."""
    subprocess.run(
        ["sh", "-c", f"printf '%s' '{SAVED}' > .z.swp && mv .z.swp z.txt"], cwd=repo, check=True
    )


def _while_writing(monkeypatch: pytest.MonkeyPatch, then: Callable[[], None]) -> None:
    """The restore writes its temp files as ever; *then* runs once as the first is written
    (after the restore looked at the path it replaces, before its rename)."""
    real = Restorer._fill_file
    done = [False]

    def fill(self: Restorer, fd: int, e: Any) -> None:
        real(self, fd, e)
        if not done[0]:
            done[0] = True
            then()

    monkeypatch.setattr(Restorer, "_fill_file", fill)


def _restore(repo: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    rc = main(["-C", str(repo), "restore", *args])
    out = capsys.readouterr()
    return rc, out.out + out.err


def _kept_then_written(repo: Path, rc: int, said: str, *args: str) -> None:
    """The edit kept and named, the rest restored; the same command again writes it, its
    pre-restore snapshot holding the edit."""
    assert rc == 1, said
    assert "NOT WRITTEN z.txt: changed while the restore ran: run it again" in said
    assert (repo / "z.txt").read_text() == SAVED
    again = gs(repo, "restore", *args)
    assert (repo / "z.txt").read_text() == "z old\n"
    pre = again.out.rsplit("what was there before is in snapshot ", 1)[1].split()[0]
    assert gs(repo, "cat", pre.rstrip(",;"), "z.txt").out == SAVED


def test_whole_tree_restore_keeps_a_save_made_after_its_snapshot(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _edited(repo)
    after_pre_restore(monkeypatch, lambda: _editor_saves(repo))
    rc, said = _restore(repo, capsys, "1")
    for i in range(FILES):
        assert (repo / f"f{i:03}.txt").read_text() == f"old {i}\n"
    _kept_then_written(repo, rc, said, "1")


def test_one_path_restore_keeps_a_save_made_after_its_snapshot(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _edited(repo)
    after_pre_restore(monkeypatch, lambda: _editor_saves(repo))
    rc, said = _restore(repo, capsys, "1", "z.txt")
    _kept_then_written(repo, rc, said, "1", "z.txt")


def test_a_save_while_the_restore_writes_is_kept(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The last look is just before the rename: a save while the restore wrote its temp
    file (seconds, for a big one) is kept too, and the temp file is gone."""
    _edited(repo)
    _while_writing(monkeypatch, lambda: _editor_saves(repo))
    rc, said = _restore(repo, capsys, "1", "z.txt")
    assert not [n for n in os.listdir(repo) if n.startswith(".gsnap-tmp-")]
    _kept_then_written(repo, rc, said, "1", "z.txt")


def test_an_unchanged_path_is_written_as_ever(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Edits saved just before the restore (as a script does) are in its snapshot: written."""
    _edited(repo)
    rc, said = _restore(repo, capsys, "1")
    assert rc == 0, said
    assert (repo / "z.txt").read_text() == "z old\n"
    assert "NOT WRITTEN" not in said
