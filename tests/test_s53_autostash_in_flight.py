"""git's autostash and a watch snapshot committed in git's first clock tick (s52's k3).

`git rebase --autostash` stashes the user's edits and runs `reset --hard`, which writes a
tracked file back over the folder the user made in its place, deleting the untracked file in
it (RED40 F1); pre-rebase, run after that, names what is gone from the snapshot before
(autostash._autostash_losses). The watcher's own snapshot, sent as its quiet period ended,
committed in the tick git began in, is not that snapshot (findlosses._in_gits_tick: its walk
may have read git's writes). When its walk read the folder before git wrote (the user's
newest x.csv/inner.txt), what it holds is named from it, hedged, as a snapshot in flight is
at post-checkout; the earlier snapshot holds only an older version (named from it: `undo`
wrote that older version back) or nothing (named by nothing).

The daemon's worker is test_s52_red_flight_versions' (its snapshot recorded as committed in
git's first tick, its walk begun before git); pre-rebase is held until it has committed
(test_s51's _checkout_with_watch_snapshot). No timing decides an outcome."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from clihelpers import git
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
NEWEST = b"my work, newest\n"


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
@pytest.mark.parametrize(
    ("had", "data", "damaged"),
    [(True, NEWEST, False), (False, NEWEST, False), (True, OLD, False), (True, NEWEST, True)],
    ids=["older-in-before", "none-in-before", "same-in-before", "damaged-in-flight"],
)
def test_what_a_watch_snapshot_in_gits_tick_read_before_the_autostash_is_named(
    repo: Path,
    store_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    had: bool,
    data: bytes,
    damaged: bool,
) -> None:
    """x.csv, tracked, made a folder holding inner.txt; a snapshot (OLD there, or taken
    before the folder: none); inner.txt saved again (NEWEST); the watcher's snapshot, begun
    before `git rebase --autostash feat`, committed in git's first tick, read NEWEST. The
    reset deletes the folder: x.csv/inner.txt is named from the watcher's snapshot, hedged,
    and its restore gives NEWEST back. Was: named from the earlier snapshot (OLD), or by
    nothing. Saved again as it was (OLD): named from the earlier snapshot, which holds it.
    The watcher's snapshot damaged (its x.csv tree, rev53; RED34 D2): passed over, the
    earlier snapshot's OLD named, hedged; was: "could not check", named by nothing."""
    put_venv_on_path(monkeypatch)
    commit(repo, "x.csv", b"x v0\n")
    base = commit(repo, "a.txt", b"a\n")
    side_commit(repo, "feat", {"b.txt": b"b\n"}, base=base)
    commit(repo, "a.txt", b"a2\n")
    install(repo)
    if had:
        (repo / "x.csv").unlink()
        write(repo / "x.csv" / "inner.txt", OLD)
    gs(repo, "create", "-m", "saved before")
    (earlier,) = [s["id"] for s in snaps(repo) if s["message"] == "saved before"]
    add(store_dir, repo)
    rec = _Recorded(monkeypatch, repo.parent / "worker")
    cfg = wconfig.WatchConfig(quiet=NEVER, max_delay=NEVER, prepare=NEVER)
    with _daemon(store_dir, repo, cfg) as d:
        if not had:
            (repo / "x.csv").unlink()
        write(repo / "x.csv" / "inner.txt", data)
        saved = os.lstat(repo / "x.csv" / "inner.txt").st_mtime
        _read(d)
        rec.walked = time.time()  # (after NEWEST, before git)
        rec.after = 0.0005  # (in git's first tick)
        past_a_tick()

        def snap(d: wdaemon.Daemon, r: Path) -> int:
            # the reset has run: its file stands at x.csv; the watcher's walk read the folder
            # before (NEWEST, as saved), so the folder is there while it walks
            os.rename(r / "x.csv", r.parent / "x.csv.git")
            write(r / "x.csv" / "inner.txt", data)
            os.utime(r / "x.csv" / "inner.txt", (saved, saved))
            _read(d)
            got = rec.snap(d, r)
            (r / "x.csv" / "inner.txt").unlink()
            (r / "x.csv").rmdir()
            os.rename(r.parent / "x.csv.git", r / "x.csv")
            if damaged:
                _damage(r, got, b"x.csv")  # (the folder's tree: the watch snapshot's alone)
            return got

        argv = ("git", "rebase", "--autostash", "feat")
        ran, watch, _ = _checkout_with_watch_snapshot(
            d, repo, snap=snap, argv=argv, hook="pre-rebase"
        )
    assert (repo / "x.csv").is_file()  # (git's reset put the file back: the folder is gone)
    assert by_id(repo, watch)["trigger"] == "watch" and watch > earlier
    if damaged:
        assert "could not check" not in ran.err, ran.err
        data = OLD  # (what the earlier snapshot holds, named)
    else:
        assert gs(repo, "cat", f"{watch}:x.csv/inner.txt").out.encode() == data
    named = watch if data == NEWEST else earlier
    assert [(rep.names, rep.snap) for rep in ran.reports] == [("x.csv/inner.txt", named)], ran.err
    assert not ran.reports[0].exact  # (in flight: hedged; the earlier one: `git snapshot`)
    git(repo, "rm", "-q", "--cached", "x.csv")
    (repo / "x.csv").unlink()
    gs(repo, "undo")
    assert (repo / "x.csv" / "inner.txt").read_bytes() == data
