"""RED40 E1 finding 2: ``restore ID --delete`` deleted files a tool created while it ran (a
build watcher, an editor's new buffer): its delete pass listed the folder when it ran, so it
removed what appeared after the pre-restore snapshot, which holds none of it. Now --delete
removes only what that snapshot holds as it is on disk; what appeared or changed since is
kept, named on a ``NOT WRITTEN`` line, and the restore exits 1; run again, it takes a new
pre-restore snapshot holding those, then deletes them.

The tool is a real process (sh), run right after the pre-restore snapshot is taken.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from clihelpers import gs
from hookhelpers import after_pre_restore
from hookhelpers import install

from git_snapshot.cli import main

NEW = "made by the build after the pre-restore snapshot\n"


def _build_writes(repo: Path) -> None:
    """New files, one in a new folder and one in a folder the restore empties, and an old
    extra file saved again: by another process."""
    script = (
        f"printf '%s' '{NEW}' > new.txt && mkdir -p gen && printf '%s' '{NEW}' > gen/out.js"
        f" && printf '%s' '{NEW}' > build/late.o && printf '%s' '{NEW}' > extra.txt"
    )
    subprocess.run(["sh", "-c", script], cwd=repo, check=True)


def test_delete_keeps_what_appeared_after_its_snapshot(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    install(repo)
    (repo / "a.txt").write_text("a\n")
    gs(repo, "create")  # 1
    (repo / "extra.txt").write_text("extra, before the restore\n")
    (repo / "gone.txt").write_text("an extra nothing touches\n")
    (repo / "build").mkdir()
    (repo / "build" / "old.o").write_text("old object\n")
    after_pre_restore(monkeypatch, lambda: _build_writes(repo))
    rc = main(["-C", str(repo), "restore", "1", "--delete"])
    out = capsys.readouterr()
    said = out.out + out.err
    assert rc == 1, said
    for path in ("new.txt", "gen/out.js", "build/late.o", "extra.txt"):
        assert (repo / path).read_text() == NEW, path
    # a folder made since is named whole
    for path in ("new.txt", "gen", "build/late.o", "extra.txt"):
        assert f"NOT WRITTEN {path}: " in said, said
    assert "NOT WRITTEN new.txt: created while the restore ran: run it again" in said
    assert "NOT WRITTEN extra.txt: changed while the restore ran: run it again" in said
    assert "run the same command again" in said
    # what the pre-restore snapshot holds as it is went
    assert not (repo / "gone.txt").exists()
    assert not (repo / "build" / "old.o").exists()
    assert "delete gone.txt" in said and "delete new.txt" not in said
    again = gs(repo, "restore", "1", "--delete")
    for path in ("new.txt", "gen", "build", "extra.txt"):
        assert not (repo / path).exists(), path
    pre = again.out.rsplit("what was there before is in snapshot ", 1)[1].split()[0]
    assert gs(repo, "cat", pre.rstrip(",;"), "gen/out.js").out == NEW
