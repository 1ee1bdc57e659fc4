"""Red team (session 10): ``export ID FILE`` replaced whatever FILE was (a user's file, a link,
last week's archive) without a word. It now refuses, with one line, and leaves it as it is;
``--force`` replaces it. A file that appears at FILE while the archive is written is not
replaced either (the archive takes the name with link(2), which never replaces)."""

from __future__ import annotations

import os
import tarfile
from pathlib import Path

import pytest
from clihelpers import gs

from git_snapshot.errors import UserError
from git_snapshot.store import Store
from git_snapshot.store import export as sexport


def test_export_refuses_to_replace_an_existing_file(repo: Path, tmp_path: Path) -> None:
    gs(repo, "create")
    out = tmp_path / "thesis.tar"
    out.write_text("my thesis, not an archive\n")
    ran = gs(repo, "export", "1", str(out), rc=1)
    assert out.read_text() == "my thesis, not an archive\n"
    assert len(ran.err_lines) == 1 and "exists" in ran.err and "--force" in ran.err, ran.err
    link = tmp_path / "link.tar"
    link.symlink_to(tmp_path / "nowhere")  # a dangling link too: it exists
    gs(repo, "export", "1", str(link), rc=1)
    assert link.is_symlink() and os.readlink(link) == str(tmp_path / "nowhere")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.tar", "repo", "thesis.tar"]
    gs(repo, "export", "1", str(out), "--force")
    with tarfile.open(out) as tar:
        assert "README" in tar.getnames()


def test_a_file_made_while_the_archive_is_written_is_kept(
    repo: Path, tmp_path: Path, store_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gs(repo, "create")
    out = tmp_path / "out.tar"
    real = sexport._Writer.write

    def write(self: sexport._Writer, *args: object) -> None:
        real(self, *args)  # type: ignore[arg-type]
        out.write_text("saved by the user meanwhile\n")

    monkeypatch.setattr(sexport._Writer, "write", write)
    with Store(store_dir) as s, pytest.raises(UserError, match="exists"):
        sexport.export(s, s.snapshots()[-1], str(out))
    assert out.read_text() == "saved by the user meanwhile\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.tar", "repo"]  # no temp left
