"""review40 RE1, after RED40 E1: a file whose content is the snapshot's but whose mtime is
not, and that is a hard link (a pnpm store's), is given a copy of its own with the
snapshot's mtime: written to a temp file and renamed over the name, like any replaced file,
but without the guard's last look before the rename. An editor's save while that copy was
written was overwritten, in no snapshot. Now the save is kept and named, as for any other
replaced file, and the restore exits 1.

The editor is a real process (sh: a temp file, then mv over the name), run while the restore
writes its copy.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from clihelpers import gs
from hookhelpers import install

from git_snapshot.cli import main
from git_snapshot.store.restorer import Restorer

SAVED = "saved by the editor while the restore wrote its copy\n"


def test_a_save_while_a_hard_links_copy_is_written_is_kept(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    install(repo)
    (repo / "z.txt").write_text("z\n")
    gs(repo, "create")  # 1
    os.link(repo / "z.txt", tmp_path / "z-link")  # (a store's link elsewhere)
    os.utime(repo / "z.txt", ns=(1_000_000_000, 1_000_000_000))  # its content, another mtime
    real = Restorer._fill_file
    done = [False]

    def fill(self: Restorer, fd: int, e: Any) -> None:
        real(self, fd, e)
        if not done[0]:
            done[0] = True
            subprocess.run(
                ["sh", "-c", f"printf '%s' '{SAVED}' > .z.swp && mv .z.swp z.txt"],
                cwd=repo,
                check=True,
            )

    monkeypatch.setattr(Restorer, "_fill_file", fill)
    rc = main(["-C", str(repo), "restore", "1", "z.txt"])
    out = capsys.readouterr()
    said = out.out + out.err
    assert done[0], said  # (the copy was written)
    assert (repo / "z.txt").read_text() == SAVED, said
    assert rc == 1, said
    assert "NOT WRITTEN z.txt: changed while the restore ran: run it again" in said
    assert not [n for n in os.listdir(repo) if n.startswith(".gsnap-tmp-")]
