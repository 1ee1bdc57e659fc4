"""Printed lines that said something untrue (session 15, TRUE3)."""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import Any

import pytest
from clihelpers import git
from clihelpers import gs
from hookhelpers import commit
from hookhelpers import install
from hookhelpers import put_venv_on_path
from hookhelpers import side_commit
from storehelpers import D
from storehelpers import F
from storehelpers import build
from storehelpers import take

from git_snapshot.commands.repair import cmd_repair
from git_snapshot.store import Store
from git_snapshot.store import packs
from git_snapshot.store import repair as repair_mod


def test_install_service_says_hooks_start_the_watcher_only_when_they_do(tmp_path: Path) -> None:
    """`watch --install-service` printed "(any hook also starts it)" with GIT_SNAPSHOT_WATCH=0
    (hooks start nothing then) and with snapshot.watch false (nothing of it is watched)."""
    off = gs(tmp_path, "watch", "--install-service", GIT_SNAPSHOT_WATCH="0")
    assert "any hook also starts it" not in off
    assert "hooks do not start it while GIT_SNAPSHOT_WATCH=0 is set" in off, off
    on = gs(tmp_path, "watch", "--install-service", GIT_SNAPSHOT_WATCH="1")
    assert "any git command with a hook also starts it when it is not running" in on, on
    assert "snapshot.watch is false" not in on
    git(tmp_path, "config", "--global", "snapshot.watch", "false")
    unwatched = gs(tmp_path, "watch", "--install-service", GIT_SNAPSHOT_WATCH="1")
    assert "git config snapshot.watch is false here: it watches no worktree" in unwatched
    assert os.environ["GIT_SNAPSHOT_WATCH"] == "0"  # (the suite's: no daemon left behind)


def test_a_forced_switch_over_a_never_edited_excluded_file_claims_no_lost_edit(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`checkout -f B` rewrites a file left out by snapshot.exclude whose committed version B
    changes, edited or not (git writes the worktree before any hook runs: no hook can tell).
    The line said "any uncommitted edit is lost" for a file that held none."""
    put_venv_on_path(monkeypatch)
    commit(repo, "big.bin", b"v1\n")
    git(repo, "config", "snapshot.exclude", "big.bin")
    install(repo)
    side_commit(repo, "side", {"big.bin": b"v2\n"})
    gs(repo, "create")
    ran = git(repo, "checkout", "-q", "-f", "side")  # big.bin never edited
    assert (repo / "big.bin").read_bytes() == b"v2\n"
    (line,) = [ln for ln in ran.said if "not saved: big.bin" in ln]
    assert "any uncommitted edit is lost" not in line, line
    assert line.endswith(
        "excluded by snapshot.exclude; git wrote its committed version over it: "
        "if it held an uncommitted edit, that edit is lost"
    ), line


def test_repair_says_a_pack_it_could_not_read_is_not_damaged_nor_lost(
    store_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A pack the disk would not read (EIO: no fault that can be had here short of a failing
    disk, so scan_pack raises it for that pack) was 'damaged pack X: read up to the damage',
    its snapshot's files had 'no intact copy left', and the last line said some data had
    none: the pack is whole, gc keeps it, and a repair once it reads enters it again."""
    src = tmp_path / "src"
    build(src, D({b"a": F(b"first\n")}))
    with Store(store_dir) as store:
        take(store, "s", src)
        first = set(store.pack_names())
        build(src, D({b"b": F(os.urandom(5000))}))
        take(store, "s", src)
        (second,) = set(store.pack_names()) - first
    os.unlink(store_dir / "index.sqlite")  # lost: rebuilt from the packs alone
    real = packs.scan_pack

    def eio(path: str, *a: Any, **kw: Any) -> Any:
        if os.path.basename(path) == second:
            raise OSError(errno.EIO, "Input/output error", path)
        return real(path, *a, **kw)

    with monkeypatch.context() as failing:
        failing.setattr(repair_mod, "scan_pack", eio)
        assert cmd_repair() == 1
    said = capsys.readouterr()
    assert f"could not read pack {second} now (Input/output error)" in said.out, said.out
    assert "damaged pack" not in said.out and "no intact copy" not in said.out + said.err
    assert "could not be read (above)" in said.err and "run git snapshot repair again" in said.err
    assert cmd_repair() == 0  # it reads again: nothing was lost
    with Store(store_dir) as store:
        assert [s.id for s in store.snapshots("s")] == [1, 2]
