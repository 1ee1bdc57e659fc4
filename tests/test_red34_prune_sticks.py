"""RED34 B6 (finding 6): ``remote prune NAME --keep-last N`` was undone by the next push of
any machine that still held the pruned snapshots (push sent "what the remote lacks"), so with
autoPush the remote's retention held for one hook; and ``pull`` after a local ``forget``
brought the forgotten snapshots back under new numbers (a secret forgotten came back). A
prune or a forget is a decision that sticks: the remote keeps the ids of what its prunes
dropped (``pruned/`` documents) and push does not send those again; pull leaves out what
this store's tombstones name. Each says so in its line."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import committed_repo
from remotehelpers import machine
from remotehelpers import on

pytestmark = pytest.mark.slow


def _four(tmp_path: Path) -> tuple[Path, dict[str, str], Path]:
    repo = committed_repo(tmp_path / "w")
    a = machine(tmp_path, "a")
    remote = tmp_path / "remote"
    on(a, repo, "remote", "add", "r", f"file://{remote}")
    for n in range(1, 5):
        (repo / "f").write_text(f"v{n}\n")
        (repo / f"r{n}").write_bytes(os.urandom(20_000))
        on(a, repo, "-m", f"s{n}")
    on(a, repo, "push", "r")
    return repo, a, remote


def _remote_messages(a: dict[str, str], repo: Path) -> list[str]:
    out = on(a, repo, "list", "--remote", "r", "--all").out
    return sorted(w for w in out.split() if w.startswith("s") and w[1:].isdigit())


def test_a_remote_prune_is_not_undone_by_the_next_push(tmp_path: Path) -> None:
    repo, a, remote = _four(tmp_path)
    on(a, repo, "remote", "prune", "r", "--keep-last", "1")
    assert _remote_messages(a, repo) == ["s4"]
    r = on(a, repo, "push", "r")
    assert r.out.startswith("pushed 0 snapshot(s)") and "3 pruned from r" in r.out, r.out
    assert _remote_messages(a, repo) == ["s4"]
    (repo / "f").write_text("v5\n")
    on(a, repo, "-m", "s5")
    assert on(a, repo, "push", "r").out.startswith("pushed 1 snapshot(s)")
    # a second prune keeps the record of the first, in one document
    on(a, repo, "remote", "prune", "r", "--keep-last", "1")
    assert len(os.listdir(remote / "pruned")) == 1
    assert "4 pruned from r" in on(a, repo, "push", "r").out
    assert _remote_messages(a, repo) == ["s5"]
    on(a, repo, "verify", "--remote", "r", "--read-data")
    # another machine with the key: what it pulls is what the remote kept
    key = str(Path(a["XDG_CONFIG_HOME"]) / "git-snapshot" / "keys" / "r.key")
    b = machine(tmp_path, "b")
    on(b, tmp_path, "remote", "add", "r", f"file://{remote}", "--key", key)
    assert "pulled 1 snapshot(s)" in on(b, tmp_path, "pull", "r").out


def test_pull_does_not_bring_back_what_this_store_forgot(tmp_path: Path) -> None:
    repo, a, _remote = _four(tmp_path)
    on(a, repo, "forget", "2")
    r = on(a, repo, "pull", "r")
    assert "pulled 0 snapshot(s)" in r.out and "1 snapshot(s) this store forgot" in r.out, r.out
    listed = on(a, repo, "list").out
    assert "s2" not in listed and "s1" in listed, listed
    assert "s2" in on(a, repo, "list", "--remote", "r").out  # the remote keeps its copy
