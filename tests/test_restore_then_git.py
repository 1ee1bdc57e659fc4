"""A git command that destroys what `git snapshot restore` wrote (newcomer's walk, RED32 V2).

`git snapshot restore S .env` first takes a pre-restore snapshot P (the worktree before the
restore), then writes snapshot S's `.env`. A later `git checkout` that writes over the restored
`.env` was reported against P, the newest snapshot before it, whose `.env` is the one the
restore replaced: the printed `git snapshot restore P .env` brought back the wrong bytes (the
right ones are in S), `undo` wrote them too, and a restored path that P lacks was not named
at all. Now the paths a restore wrote are compared with its source snapshot S, in a report
line of their own naming S; the rest, as before, with P.

Real git, the plain hooks installed as a user installs them; the printed restore commands
are pasted into sh as printed.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from clihelpers import Ran
from clihelpers import Report
from clihelpers import git
from clihelpers import gs
from hookhelpers import commit
from hookhelpers import install
from hookhelpers import put_venv_on_path
from hookhelpers import side_commit
from hookhelpers import snaps
from hookhelpers import write

RESTORED = b"TOKEN=the-good-one\x00\xe9"  # snapshot S's .env: what the restore wrote
REPLACED = b"TOKEN=replaced-by-the-restore\n"  # what .env held when restore ran (P's)
KEY = b"-----KEY restored-----\n"  # keys/old.key: in S, absent when the restore ran
LOCAL = b"[local]\nmine = 1\n"  # local.ini: untouched by the restore, in P
BRANCH = {".env": b"from the branch\n", "keys/old.key": b"branch key\n", "local.ini": b"b\n"}


@pytest.fixture
def restored(repo: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, int, int]:
    """A worktree on main where .env, keys/ and local.ini are ignored, and branch `other`
    tracks all three; `git snapshot restore S .env keys/old.key` just ran. Returns the
    worktree, S and the restore's pre-restore snapshot P."""
    put_venv_on_path(monkeypatch)  # the printed commands are pasted into sh
    commit(repo, ".gitignore", b".env\nkeys/\nlocal.ini\n")
    side_commit(repo, "other", BRANCH)
    install(repo)
    write(repo / ".env", RESTORED)
    write(repo / "keys" / "old.key", KEY)
    s = _created(gs(repo, "create", "--json"))
    write(repo / ".env", REPLACED)
    (repo / "keys" / "old.key").unlink()
    (repo / "keys").rmdir()
    write(repo / "local.ini", LOCAL)
    gs(repo, "restore", str(s), ".env", "keys/old.key")
    assert (repo / ".env").read_bytes() == RESTORED
    listed = snaps(repo)
    # the contract's reading: the newest listed snapshot after a restore is its pre-restore one
    assert listed[-1]["trigger"] == "pre-restore", listed[-1]
    return repo, s, listed[-1]["id"]


def _created(ran: Ran) -> int:
    got = json.loads(ran.out)
    return int(got["id"])


def _paste(cwd: Path, ran: Ran, snap: int) -> None:
    """Run the restore command that *ran*'s report line for snapshot *snap* printed, as
    printed, in sh, where the user ran git."""
    (cmd,) = [
        line.split("restore with: ", 1)[1].rsplit(")", 1)[0]
        for line in ran.err.splitlines()
        if f"restore with: git snapshot restore {snap} " in line
    ]
    subprocess.run(["sh", "-c", cmd], cwd=cwd, check=True, capture_output=True, timeout=120)


def _by_snapshot(ran: Ran) -> dict[int, Report]:
    reps = ran.reports
    out = {r.snap: r for r in reps}
    assert len(out) == len(reps), ran.err  # one line per snapshot
    return out


def _lost_of(entries: list[dict[str, Any]]) -> dict[int, set[str]]:
    out: dict[int, set[str]] = {}
    for e in entries:
        out.setdefault(e["snapshot"], set()).update(x["path"] for x in e["lost"])
    return out


def test_a_checkout_over_restored_files_names_the_restores_source(
    restored: tuple[Path, int, int],
) -> None:
    r, s, p = restored
    ran = git(r, "checkout", "-q", "other")
    assert (r / ".env").read_bytes() == BRANCH[".env"]
    reps = _by_snapshot(ran)
    assert set(reps) == {s, p}, ran.err
    # the restored paths against S, which holds what the restore wrote, the one P lacks too
    assert set(reps[s].names.split(", ")) == {".env", "keys/old.key"}, ran.err
    assert reps[s].command[3] == str(s)
    # an unrelated path against the pre-restore snapshot, as before
    assert reps[p].names == "local.ini", ran.err
    _paste(r, ran, s)
    assert (r / ".env").read_bytes() == RESTORED
    assert (r / "keys" / "old.key").read_bytes() == KEY
    _paste(r, ran, p)
    assert (r / "local.ini").read_bytes() == LOCAL


def test_losses_name_the_right_snapshot_for_each_path(restored: tuple[Path, int, int]) -> None:
    r, s, p = restored
    git(r, "checkout", "-q", "other")
    entries = [e for e in json.loads(gs(r, "losses", "--json").out) if e.get("lost")]
    assert _lost_of(entries) == {s: {".env", "keys/old.key"}, p: {"local.ini"}}, entries
    listed = gs(r, "losses").out
    assert str(s) in listed and ".env" in listed, listed


def test_undo_writes_the_restored_bytes_back(restored: tuple[Path, int, int]) -> None:
    r, _, _ = restored
    git(r, "checkout", "-q", "other")
    gs(r, "undo")
    assert (r / ".env").read_bytes() == RESTORED
    assert (r / "keys" / "old.key").read_bytes() == KEY
    assert (r / "local.ini").read_bytes() == LOCAL
    # undone as one report: a second undo refuses
    assert "already undone" in gs(r, "undo", rc=1).err


def test_a_snapshot_after_the_restore_supersedes_it(restored: tuple[Path, int, int]) -> None:
    """A snapshot taken after the restore holds the restored bytes itself: it is the one."""
    r, s, p = restored
    newer = _created(gs(r, "create", "--json"))
    ran = git(r, "checkout", "-q", "other")
    reps = _by_snapshot(ran)
    assert set(reps) == {newer}, ran.err
    _paste(r, ran, newer)
    assert (r / ".env").read_bytes() == RESTORED
    assert (r / "local.ini").read_bytes() == LOCAL
    assert s != newer != p


def test_a_second_restore_wins_for_its_paths(restored: tuple[Path, int, int]) -> None:
    """restore S .env, then restore T local.ini: .env (restored first) is in T's pre-restore
    snapshot, local.ini is T's."""
    r, s, _ = restored
    write(r / "local.ini", b"older ini\n")
    t = _created(gs(r, "create", "--json"))
    write(r / "local.ini", LOCAL)
    gs(r, "restore", str(t), "local.ini")
    p2 = snaps(r)[-1]["id"]
    ran = git(r, "checkout", "-q", "other")
    reps = _by_snapshot(ran)
    assert set(reps) == {t, p2}, ran.err
    assert reps[t].names == "local.ini"
    assert set(reps[p2].names.split(", ")) == {".env", "keys/old.key"}
    for snap in reps:
        _paste(r, ran, snap)
    assert (r / ".env").read_bytes() == RESTORED
    assert (r / "keys" / "old.key").read_bytes() == KEY
    assert (r / "local.ini").read_bytes() == b"older ini\n"
    assert s not in reps


def test_a_whole_tree_restore_names_its_source(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    put_venv_on_path(monkeypatch)
    commit(repo, ".gitignore", b".env\n")
    side_commit(repo, "other", {".env": b"from the branch\n"})
    install(repo)
    write(repo / ".env", RESTORED)
    s = _created(gs(repo, "create", "--json"))
    write(repo / ".env", REPLACED)
    gs(repo, "restore", str(s))
    ran = git(repo, "checkout", "-q", "other")
    (rep,) = ran.reports
    assert (rep.snap, rep.names) == (s, ".env"), ran.err
    _paste(repo, ran, rep.snap)
    assert (repo / ".env").read_bytes() == RESTORED


def test_a_restore_with_delete_leaves_nothing_to_name(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`restore S keys --delete` deleted keys/new.key (not in S): a checkout that writes it
    destroyed nothing of the user's (P's copy was deleted by the restore, on purpose)."""
    put_venv_on_path(monkeypatch)
    commit(repo, ".gitignore", b"keys/\n")
    side_commit(repo, "other", {"keys/new.key": b"branch\n"})
    install(repo)
    write(repo / "keys" / "old.key", KEY)
    s = _created(gs(repo, "create", "--json"))
    write(repo / "keys" / "new.key", b"deleted by the restore\n")
    gs(repo, "restore", str(s), "keys", "--delete")
    assert not (repo / "keys" / "new.key").exists()
    ran = git(repo, "checkout", "-q", "other")
    assert not ran.reports, ran.err


def test_a_file_checkout_over_a_restored_edit_is_named(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A tracked file restored to an uncommitted edit, then `git checkout -- f`: the
    pre-restore snapshot held the committed version (nothing to report against it), the
    edit is in the restore's source."""
    put_venv_on_path(monkeypatch)
    commit(repo, "config.txt", b"committed\n")
    install(repo)
    write(repo / "config.txt", b"my edit\n")
    s = _created(gs(repo, "create", "--json"))
    write(repo / "config.txt", b"committed\n")
    gs(repo, "restore", str(s), "config.txt")
    ran = git(repo, "checkout", "--", "config.txt")
    assert (repo / "config.txt").read_bytes() == b"committed\n"
    (rep,) = ran.reports
    assert (rep.snap, rep.names) == (s, "config.txt"), ran.err
    _paste(repo, ran, s)
    assert (repo / "config.txt").read_bytes() == b"my edit\n"
