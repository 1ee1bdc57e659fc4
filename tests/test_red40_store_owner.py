"""RED40 C1 (finding 4): a store written by another user. ``sudo -E git ...`` (a sudo that
keeps HOME) ran root's hook on the user's store: ``check_yours`` asked access(2), which root
always passes, so root wrote packs the user could not read. The next snapshots reused their
objects, and verify, restore and prune called them damage and sent the user to verify or
repair, which cannot mend them.

Now no process writes into a store another user owns: one line names the owner and what to
do; a hook says that line, takes no snapshot and never stops git. And a pack another user
owns that this user cannot read is named with the ``sudo chown -R`` that gives it back.

The suite runs as root: root is the writer here; the user who cannot read root's pack is
played by root without the two capabilities that bypass file permissions (setpriv), as in
tests/test_red30_store_owner.py."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from clihelpers import VENV_BIN
from clihelpers import git
from clihelpers import gs
from hookhelpers import install
from hookhelpers import put_venv_on_path
from ownerhelpers import AS_A_USER
from ownerhelpers import NOBODY
from ownerhelpers import chown_all
from ownerhelpers import diverged
from ownerhelpers import needs_root

pytestmark = needs_root


def _owned_by(top: Path, uid: int) -> list[Path]:
    return [p for p in [top, *top.rglob("*")] if p.lstat().st_uid == uid]


def _as_user(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*AS_A_USER, str(VENV_BIN / "git-snapshot"), *args],
        cwd=repo,
        capture_output=True,
        text=True,
        env={**os.environ, "GIT_SNAPSHOT_WATCH": "0"},
        check=False,
    )


def test_root_never_writes_into_a_store_another_user_owns(repo: Path, store_dir: Path) -> None:
    gs(repo, "-m", "the user's")
    chown_all(store_dir, NOBODY)
    try:
        (repo / ".env").write_text("S=1\n")
        for cmd in (["create"], ["list"]):
            ran = gs(repo, *cmd, rc=None)
            lines = ran.err.splitlines()
            assert ran.rc == 1 and len(lines) == 1, (cmd, ran.err)
            assert "belongs to nobody, not to you (root)" in ran.err, ran.err
            assert str(store_dir) in ran.err and "internal error" not in ran.err, ran.err
        assert _owned_by(store_dir, 0) == []
    finally:
        chown_all(store_dir, 0)
    assert [s["id"] for s in json.loads(gs(repo, "list", "--json").out)] == [1]


def test_root_makes_no_store_in_a_folder_another_user_owns(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "alice"
    home.mkdir()
    os.chown(home, NOBODY, -1)
    monkeypatch.setenv("GIT_SNAPSHOT_STORE", str(home / ".local" / "share" / "git-snapshot"))
    ran = gs(repo, "create", rc=1)
    assert "belongs to nobody, not to you (root)" in ran.err, ran.err
    assert list(home.iterdir()) == []


def test_a_hook_of_root_says_its_line_and_never_stops_git(
    repo: Path, store_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    put_venv_on_path(monkeypatch)
    install(repo)
    diverged(repo)
    before = json.loads(gs(repo, "list", "--json").out)
    chown_all(store_dir, NOBODY)
    try:
        ran = git(repo, "rebase", "-q", "main", rc=None)  # pre-rebase: a pre-hook
        assert ran.rc == 0, ran.err
        ours = [ln for ln in ran.err.splitlines() if ln.startswith("git-snapshot:")]
        # one line per hook of the rebase (pre-rebase, post-rewrite), each the same
        assert ours and all("snapshot failed" in ln for ln in ours), ran.err
        assert {ln.split(" snapshot failed")[1] for ln in ours} == {
            ours[0].split(" snapshot failed")[1]
        }, ran.err
        assert "belongs to nobody, not to you (root)" in ours[0], ran.err
        assert "stopped" not in ran.err, ran.err
        assert _owned_by(store_dir, 0) == []
    finally:
        chown_all(store_dir, 0)
    assert json.loads(gs(repo, "list", "--json").out) == before


def test_a_pack_another_user_owns_is_named_with_the_chown_never_as_damage(
    repo: Path, store_dir: Path, tmp_path: Path
) -> None:
    (repo / ".env").write_text("SECRET=1\n")
    gs(repo, "-m", "one")
    (pack,) = (store_dir / "packs").iterdir()
    (repo / ".env").write_text("SECRET=2\n")
    gs(repo, "-m", "two")  # (prune drops one: its pack's live objects are read to keep them)
    os.chown(pack, NOBODY, -1)
    os.chmod(pack, 0o600)
    try:
        for cmd in (
            ["verify", "--read-data"],
            ["restore", "1", "--to", str(tmp_path / "out")],
            ["prune", "--keep-last", "1"],
        ):
            ran = _as_user(repo, *cmd)
            assert ran.returncode == 1, (cmd, ran.stdout, ran.stderr)
            said = ran.stdout + ran.stderr
            assert "belongs to nobody" in said and "sudo chown -R" in said, (cmd, said)
            assert "DAMAGED" not in said and "damaged" not in said, (cmd, said)
            assert "verify" not in ran.stderr and "repair" not in ran.stderr, (cmd, said)
    finally:
        os.chown(pack, 0, -1)
    # nothing was marked damaged: every object reads back, as it is
    assert gs(repo, "verify", "--read-data").rc == 0
    gs(repo, "restore", "2", "--to", str(tmp_path / "again"))  # (1 was pruned: forgotten)
    assert (tmp_path / "again" / ".env").read_text() == "SECRET=2\n"
    assert (tmp_path / "again" / "README").exists()  # (in the first pack)
