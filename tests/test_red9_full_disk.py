"""Red team (session 13): a git command destroys an uncommitted edit that a snapshot holds,
and the store's disk is full. The post-hook's own snapshot fails (nothing can be stored),
and the hook said only that: what the command destroyed, and the command that restores it
from the earlier snapshot (which needs no room), were never told."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from fullfs import fill
from fullfs import store_on_small_fs
from fullfs import unfill
from hookhelpers import commit
from hookhelpers import install
from hookhelpers import put_venv_on_path
from hookhelpers import write


@pytest.fixture
def small_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    with store_on_small_fs(tmp_path, monkeypatch, size_mib=24) as store:
        yield store


def test_a_loss_on_a_full_store_disk_is_still_named(
    repo: Path, small_store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    put_venv_on_path(monkeypatch)
    r = repo
    commit(r, "a.txt", b"committed\n")
    install(r)
    write(r / "a.txt", b"my uncommitted edit\n")
    gs(r, "create")
    (small_store / "reserve").unlink(missing_ok=True)
    fill(small_store.parent)
    ran = git(r, "checkout", "--", "a.txt")
    assert (r / "a.txt").read_bytes() == b"committed\n"
    said = "\n".join(ran.said)
    assert "its disk is full" in said, said  # the failure is still told
    assert "destroyed 1 file" in said and "git snapshot restore 1 a.txt" in said, said
    unfill(small_store.parent)
    gs(r, "restore", "1", "a.txt")  # as printed
    assert (r / "a.txt").read_bytes() == b"my uncommitted edit\n"
