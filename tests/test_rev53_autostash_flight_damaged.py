"""A damaged copy in the snapshot in flight does not stop git's autostash check (RED34 D2).

2b7190b5 names what a watch snapshot in flight while `git rebase --autostash` ran read of a
folder the reset wrote a file over (test_s53_autostash_in_flight). It asked losses.find of
that snapshot without *unread*: one damaged object of it raised CorruptObject, and the whole
check gave up ("could not check what ... destroyed"), the loss the earlier snapshot holds
named by nothing. Now that snapshot is passed over and the earlier snapshot's version is
named, hedged (an earlier version: a newer one may be in the damaged snapshot). Same setup
as test_s53's; no timing decides an outcome."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from clihelpers import gs
from hookhelpers import by_id
from hookhelpers import commit
from hookhelpers import install
from hookhelpers import put_venv_on_path
from hookhelpers import side_commit
from hookhelpers import snaps
from hookhelpers import write
from prephelpers import past_a_tick
from test_pl48_look_explained import _daemon
from test_pl48_look_explained import _read
from test_s51_watch_snapshot_as_git_began import INOTIFY
from test_s51_watch_snapshot_as_git_began import NEVER
from test_s51_watch_snapshot_as_git_began import _checkout_with_watch_snapshot
from test_s52_red_flight_versions import _Recorded
from test_watch_daemon import add

from git_snapshot import gitrepo
from git_snapshot import identity
from git_snapshot.store import Store
from git_snapshot.store.history import Trees
from git_snapshot.watch import config as wconfig
from git_snapshot.watch import daemon as wdaemon

OLD = b"my work, saved\n"
NEWEST = b"my work, newest, in the snapshot in flight only\n"


def _damage(r: Path, snap: int, path: bytes) -> None:
    """Flip a byte in the middle of the stored object of *path* (a folder: its tree) in
    snapshot *snap* of worktree *r*."""
    with Store(os.environ["GIT_SNAPSHOT_STORE"]) as s:
        src = identity.source(s, gitrepo.find_repo(str(r)))
        e = Trees(s).at(s.get(src, snap).root, path)
        assert e is not None
        loc = s.index.locate(e.ref)
        assert loc is not None
        pack = Path(s.pack_path(loc.pack))
    data = bytearray(pack.read_bytes())
    at = loc.offset + loc.length // 2
    data[at] ^= 0xFF
    pack.write_bytes(bytes(data))


@INOTIFY
def test_a_damaged_copy_in_flight_leaves_the_earlier_snapshots_named(
    repo: Path, store_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    put_venv_on_path(monkeypatch)
    commit(repo, "x.csv", b"x v0\n")
    base = commit(repo, "a.txt", b"a\n")
    side_commit(repo, "feat", {"b.txt": b"b\n"}, base=base)
    commit(repo, "a.txt", b"a2\n")
    install(repo)
    (repo / "x.csv").unlink()
    write(repo / "x.csv" / "inner.txt", OLD)
    gs(repo, "create", "-m", "saved before")
    (earlier,) = [s["id"] for s in snaps(repo) if s["message"] == "saved before"]
    add(store_dir, repo)
    rec = _Recorded(monkeypatch, repo.parent / "worker")
    cfg = wconfig.WatchConfig(quiet=NEVER, max_delay=NEVER, prepare=NEVER)
    with _daemon(store_dir, repo, cfg) as d:
        write(repo / "x.csv" / "inner.txt", NEWEST)
        saved = os.lstat(repo / "x.csv" / "inner.txt").st_mtime
        _read(d)
        rec.walked = time.time()  # (after NEWEST, before git)
        rec.after = 0.0005  # (in git's first tick)
        past_a_tick()

        def snap(d: wdaemon.Daemon, r: Path) -> int:
            os.rename(r / "x.csv", r.parent / "x.csv.git")
            write(r / "x.csv" / "inner.txt", NEWEST)
            os.utime(r / "x.csv" / "inner.txt", (saved, saved))
            _read(d)
            got = rec.snap(d, r)
            (r / "x.csv" / "inner.txt").unlink()
            (r / "x.csv").rmdir()
            os.rename(r.parent / "x.csv.git", r / "x.csv")
            _damage(r, got, b"x.csv")  # (the folder's tree: the watch snapshot's alone)
            return got

        argv = ("git", "rebase", "--autostash", "feat")
        ran, watch, _ = _checkout_with_watch_snapshot(
            d, repo, snap=snap, argv=argv, hook="pre-rebase"
        )
    assert (repo / "x.csv").is_file()
    assert by_id(repo, watch)["trigger"] == "watch" and watch > earlier
    assert "could not check" not in ran.err, ran.err
    (lost,) = [ln for ln in ran.err.splitlines() if " destroyed " in ln]
    assert "x.csv/inner.txt" in lost and f"restore {earlier} x.csv/inner.txt" in lost, ran.err
    assert [(rep.names, rep.snap) for rep in ran.reports] == [("x.csv/inner.txt", earlier)]
    assert not ran.reports[0].exact, ran.err  # (an earlier version: the newer one damaged)
    assert gs(repo, "cat", f"{earlier}:x.csv/inner.txt").out.encode() == OLD
