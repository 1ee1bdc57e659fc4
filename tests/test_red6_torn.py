"""Red team (session 11): a file that kept changing while a snapshot read it is stored as
last read and flagged; that read may mix versions (a writer rewriting a 20 MiB file in place
gave snapshots holding up to 8 different blocks of its versions at once). ``create`` said the
snapshot "holds their last state", which was untrue, and ``show``, ``cat``, ``restore`` and
``export`` said nothing at all: the restored file looked like any other. Now each says it
may mix versions."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from clihelpers import gs
from readhelp import python_reads  # noqa: F401  (pytestmark below)

from git_snapshot import cli

pytestmark = pytest.mark.usefixtures("python_reads")  # (they watch os.open/os.read)


def _grow_while_read(monkeypatch: pytest.MonkeyPatch, path: Path) -> None:
    """Append a byte to *path* whenever a read of it reaches its end: it never reads stable."""
    real = os.read
    target = os.fsencode(os.path.realpath(path))

    def read(fd: int, n: int) -> bytes:
        data = real(fd, n)
        if len(data) < n and os.readlink(b"/proc/self/fd/%d" % fd) == target:
            with open(path, "ab") as f:
                f.write(b"+")
        return data

    monkeypatch.setattr(os, "read", read)


def test_a_torn_read_is_named_by_create_show_and_restore(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / "log.txt").write_bytes(b"line\n" * 100)
    (repo / "quiet.txt").write_bytes(b"still\n")
    with monkeypatch.context() as m:
        _grow_while_read(m, repo / "log.txt")
        assert cli.main(["-C", str(repo), "create"]) == 0
    err = capsys.readouterr().err
    assert "may mix versions" in err and "log.txt" in err, err
    assert "last state" not in err, err
    shown = gs(repo, "show", "1")
    (line,) = [ln for ln in shown.splitlines() if "log.txt" in ln]
    assert "may mix versions" in line, shown
    assert "may mix" not in next(ln for ln in shown.splitlines() if "quiet.txt" in ln)
    entries = {e["path"]: e for e in json.loads(gs(repo, "show", "1", "--json"))["entries"]}
    assert entries["log.txt"].get("changed_while_read") is True
    assert "changed_while_read" not in entries["quiet.txt"]
    cat = gs(repo, "cat", "1", "log.txt")
    assert cat.out.startswith("line\n") and "may mix versions" in cat.err, cat.err
    assert "may mix" not in gs(repo, "cat", "1", "quiet.txt").err
    ran = gs(repo, "restore", "1", "--to", str(tmp_path / "out"))
    assert "may mix versions" in ran.err and "log.txt" in ran.err, ran.err
    ran = gs(repo, "export", "1", str(tmp_path / "s.tar"))
    assert "may mix versions" in ran.err and "log.txt" in ran.err, ran.err
    ran = gs(repo, "restore", "1", "quiet.txt", "--to", str(tmp_path / "out2"))
    assert "may mix" not in ran.err, ran.err  # only what it writes of them
