"""RED31 C6: a file that is not git-snapshot's under the remote's ``snapshots/`` (a sync tool's
conflict copy, an S3 console "folder" object) was taken for a damaged snapshot document: every
push exited 1, verify --remote named a DAMAGED object, and remote prune refused for ever, with
advice no machine could follow. Names that are not remote object ids are not the remote's and
are ignored. And a push with several warnings printed a literal ``\\n`` between them: each is
now a line of its own."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from conftest import committed_repo
from remotehelpers import machine
from remotehelpers import on

pytestmark = pytest.mark.slow


def test_foreign_files_under_snapshots_block_nothing(tmp_path: Path) -> None:
    repo = committed_repo(tmp_path / "w")
    a = machine(tmp_path, "a")
    remote = tmp_path / "remote"
    on(a, repo, "remote", "add", "nas", f"file://{remote}")
    on(a, repo, "-m", "first")
    on(a, repo, "push")
    (doc,) = os.listdir(remote / "snapshots")
    shutil.copy(remote / "snapshots" / doc, remote / "snapshots" / f"{doc}.sync-conflict-1")
    (remote / "snapshots" / "desktop.ini").write_text("[x]\n")
    (remote / "index" / "README").write_text("hello\n")
    (remote / "snapshots" / "sub").mkdir()
    (remote / "snapshots" / "sub" / ("ab" * 16)).write_text("nested\n")
    (repo / "more.txt").write_text("more\n")
    on(a, repo, "-m", "second")
    r = on(a, repo, "push")
    assert "pushed 1 snapshot(s)" in r.out and not r.err, r.err
    r = on(a, repo, "verify", "--remote", "nas", "--read-data")
    assert "DAMAGED" not in r.out
    r = on(a, repo, "remote", "prune", "nas", "--keep-last", "1")
    assert "dropped 1 snapshot(s)" in r.out, r.out
    assert (remote / "snapshots" / "desktop.ini").exists()
    assert len(on(a, repo, "list", "--remote", "nas").out.splitlines()) == 2


def test_push_prints_each_warning_on_a_line_of_its_own(tmp_path: Path) -> None:
    repo = committed_repo(tmp_path / "w")
    a = machine(tmp_path, "a")
    remote = tmp_path / "remote"
    on(a, repo, "remote", "add", "nas", f"file://{remote}")
    on(a, repo, "-m", "first")
    on(a, repo, "push")
    (first,) = os.listdir(remote / "snapshots")
    (repo / "more.txt").write_text("more\n")
    on(a, repo, "-m", "second")
    on(a, repo, "push")
    key = Path(a["XDG_CONFIG_HOME"]) / "git-snapshot" / "keys" / "nas.key"
    doc = remote / "snapshots" / first
    data = bytearray(doc.read_bytes())
    data[-5] ^= 1
    doc.write_bytes(bytes(data))  # a damaged snapshot document: one warning
    newest = max(os.listdir(remote / "packs"), key=lambda p: (remote / "packs" / p).stat().st_mtime)
    os.unlink(remote / "packs" / newest)  # a pack no machine c holds: another
    c = machine(tmp_path, "c")
    on(c, repo, "remote", "add", "nas", f"file://{remote}", "--key", str(key))
    r = on(c, repo, "push", rc=1)
    assert "\\n" not in r.err, r.err
    assert len(r.ours) == 2, r.err


def test_list_remote_all_on_an_empty_remote_names_the_remote(tmp_path: Path) -> None:
    repo = committed_repo(tmp_path / "w")
    a = machine(tmp_path, "a")
    on(a, repo, "remote", "add", "nas", f"file://{tmp_path}/remote")
    out = on(a, repo, "list", "--remote", "nas", "--all").out
    assert "this store" not in out and "remote nas" in out, out
