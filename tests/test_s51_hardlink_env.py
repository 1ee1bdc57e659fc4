"""A new ignored .env in a folder that also holds a hard-linked file (s51; session 48's note
"a new .env in a folder holding a hard-linked file is never named").

The README's example (main ignores .env, feat tracks one; a NEW .env written a moment before
`git checkout feat`, the watcher running) with one more file at the top: a file with another
name, in the worktree (`ln a b`) or outside it (a pnpm store's). Without it, post-checkout
names .env from the watcher's prepared tree; with it, nothing was named and SECRET=mine was in
no snapshot. Two causes, both of the rule for files with other names (RED38 A1: a write
through another name raises no event here):

- prep.changed_since set a prepared tree aside when any of the paths git wrote (or the tree
  changed) lay at or below a folder holding such a file: the top folder linked set aside every
  tree, whatever file git wrote where. It now sets it aside when the path itself is a file
  known to have other names at any time after the tree began (the daemon publishes their
  names, dirtyset.linked_names, and keeps a name found no longer so a while); a folder whose
  names it does not give (more than 32, every one of two or more files, older code) counts
  whole.
- the watcher's periodic look marked such a folder whole whenever its signature changed, the
  new .env's own events notwithstanding; post-checkout read that mark (after the tree, before
  git) as a change where git wrote. It now marks there, as in any folder, what no event
  explained (a write through the other name is one: its ctime moves).

Real git, the hooks `git snapshot install` puts in place, real daemons (a subprocess, or one
in this process whose look the test runs when it chooses: no timing)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from hookhelpers import by_id
from hookhelpers import put_venv_on_path
from hookhelpers import restore
from hookhelpers import snaps
from prephelpers import past_a_tick
from test_pl48_look_explained import _daemon
from test_pl48_look_explained import _git_beside
from test_pl48_look_explained import _held
from test_pl48_look_explained import _look_now
from test_pl48_look_explained import _marks
from test_pl48_look_explained import _past_ctime
from test_pl48_look_explained import _read
from test_pl48_look_explained import _snapshot
from test_red48_new_ignored_prepared import THEIRS
from test_red48_new_ignored_prepared import env_repo
from test_watch_daemon import Watcher
from test_watch_daemon import config
from test_watch_daemon import wait_for
from test_watch_daemon import watcher  # noqa: F401  (the fixture)

from git_snapshot.store import Store
from git_snapshot.watch import config as wconfig
from git_snapshot.watch import daemon as wdaemon
from git_snapshot.watch import dirtyset
from git_snapshot.watch import prep

INOTIFY = pytest.mark.skipif(
    not os.path.exists("/proc/sys/fs/inotify"), reason="inotify (Linux) only"
)
NEVER = 3600.0
MINE = b"SECRET=mine\n"


def _link(r: Path, where: str) -> None:
    """A file with two names at the worktree's top: both there (`ln`), or the other one
    outside the worktree (a pnpm store's); untracked, git's checkout leaves it alone."""
    if where == "inside":
        (r / "shared.txt").write_text("shared\n")
        os.link(r / "shared.txt", r / "shared-copy.txt")
        _past_ctime(r / "shared.txt")  # (a look right after would take it as changed since)
    else:
        outside = r.parent / "store-of-packages"
        outside.mkdir()
        (outside / "lib.so").write_bytes(b"\x7fELF shared\n")
        os.link(outside / "lib.so", r / "lib.so")
        _past_ctime(r / "lib.so")


def _linked(store: Path, root: Path) -> dict[bytes, frozenset[bytes] | None]:
    with dirtyset._db(str(store), str(root), create=False) as con:
        return dirtyset.linked_names(con)


def _current(store: Path, root: Path, rel: str, data: bytes) -> prep.Prep | None:
    """The worker's current prepared tree when it holds *rel* with *data*'s size and nothing
    is marked after it but the linked folders (which prep.prepared adds to every tree's
    marks: a snapshot committing it lists them again); else None."""
    begun = dirtyset.begin(str(store), str(root))
    p = None if begun is None else prep.prepared(str(store), str(root), begun)
    if p is None or p.entries or not p.dirs <= _linked(store, root).keys():
        return None
    with Store(store) as s:
        sizes = {os.fsdecode(path): e.size for path, e in s.walk(p.root)}
    return p if sizes.get(rel) == len(data) else None


def _waited(store: Path, root: Path, rel: str, data: bytes) -> None:
    """prephelpers.prepared_with's wait (the daemon's sync first: every event of the
    writes marked), for a worktree with linked folders."""
    assert dirtyset.sync(str(store), str(root)), "the daemon did not sync"
    wait_for(lambda: _current(store, root, rel, data), what=f"a tree with {rel} prepared")
    past_a_tick()


def _prepared_now(d: wdaemon.Daemon, store: Path, root: Path, rel: str, data: bytes) -> int:
    """test_pl48's _prepared for a worktree with linked folders: the worker (in this
    process) prepares now and answers; its tree holds *rel*; returns its seq."""
    tree = d.trees[str(root)]
    assert tree.prep_change is not None, "nothing to prepare"
    tree.prep_change -= 1.0
    d.maybe_snapshot(wdaemon._now())
    assert d.child_prep is tree, "no preparation sent"
    d.worker_ready()  # (reads its answer)
    p = _current(store, root, rel, data)
    assert p is not None, "not prepared"
    return p.seq


# --------------------------------------------------------------------------- the user's case


@INOTIFY
@pytest.mark.slow
@pytest.mark.parametrize("where", ["inside", "outside"])
def test_a_new_env_beside_a_hard_linked_file_is_named(
    tmp_path: Path,
    store_dir: Path,
    watcher: Watcher,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    where: str,
) -> None:
    """The README's example with a hard-linked file beside .env, the watcher a daemon of its
    own: the hook names .env from the prepared tree and its printed restore gives SECRET=mine
    back. Was: no line, and SECRET=mine in no snapshot (the top folder linked set the tree
    aside)."""
    put_venv_on_path(monkeypatch)
    config(watchQuiet=NEVER, watchMaxDelay=NEVER, watchPrepare=0.1)
    r = env_repo(tmp_path, store_dir)
    _link(r, where)
    watcher.start()
    watcher.watching(r)
    # the case tested: the daemon knows the top folder holds a file with other names
    assert b"" in _linked(store_dir, r)
    (r / ".env").write_bytes(MINE)  # new, ignored on main
    _waited(store_dir, r, ".env", MINE)
    ran = git(r, "checkout", "feat")
    assert (r / ".env").read_bytes() == THEIRS
    assert [rep.names for rep in ran.reports] == [".env"], ran.err  # (was: none)
    (rep,) = ran.reports
    assert by_id(r, rep.snap)["trigger"] == "prepared"
    assert gs(r, "cat", f"{rep.snap}:.env").out.encode() == MINE
    git(r, "switch", "-q", "main")  # (.env tracked on feat: away with feat's version)
    restore(r, rep)
    assert (r / ".env").read_bytes() == MINE
    gs(r, "verify", "--read-data")


# --------------------------------------------------------------------------- the look


@INOTIFY
def test_a_look_beside_a_hard_linked_file_leaves_the_new_env_named(
    tmp_path: Path, store_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The look (every 5 s in a small worktree) between the prepared tree and the checkout
    marks nothing in the linked top folder: .env's events explained its change. Was: the top
    folder marked whole, and the tree set aside."""
    put_venv_on_path(monkeypatch)
    r = env_repo(tmp_path, store_dir)
    _link(r, "inside")
    cfg = wconfig.WatchConfig(quiet=NEVER, max_delay=NEVER, prepare=0.1)
    with _daemon(store_dir, r, cfg) as d:
        assert str(r) in d.trees[str(r)].ws.linked  # (the case tested)
        (r / ".env").write_bytes(MINE)
        _read(d)
        seq = _prepared_now(d, store_dir, r, ".env", MINE)
        _look_now(d, r)
        looks = _marks(store_dir, r, seq)
        past_a_tick()
        ran = _git_beside(d, r, "checkout", "feat")
    assert looks == set()  # (was: the top folder, (b"", None))
    assert [rep.names for rep in ran.reports] == [".env"], ran.err
    (rep,) = ran.reports
    git(r, "switch", "-q", "main")
    restore(r, rep)
    assert (r / ".env").read_bytes() == MINE


@INOTIFY
def test_a_write_through_the_other_name_is_still_marked_by_the_look(
    tmp_path: Path, store_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the whole-folder mark was for: a write through the other name (outside, no event
    here) is marked by the next look, as the entry it changed; the daemon's snapshot then
    holds the new bytes."""
    put_venv_on_path(monkeypatch)
    r = env_repo(tmp_path, store_dir)
    _link(r, "outside")
    cfg = wconfig.WatchConfig(quiet=NEVER, max_delay=NEVER, prepare=0.0)
    with _daemon(store_dir, r, cfg) as d:
        tree = d.trees[str(r)]
        _look_now(d, r)  # (a baseline)
        _past_ctime(r / "lib.so")
        (r.parent / "store-of-packages" / "lib.so").write_bytes(b"\x7fELF rebuilt, longer\n")
        _read(d)
        assert tree.first_change is None, "an event marked it: not the case tested"
        _look_now(d, r)
        assert _marks(store_dir, r) == {(b"", b"lib.so")}
        snap = _snapshot(d, r)
    assert _held(r, snap, "lib.so") == b"\x7fELF rebuilt, longer\n"


# --------------------------------------------------------------------------- still set aside


@INOTIFY
def test_a_new_env_with_another_name_itself_sets_the_tree_aside(
    tmp_path: Path, store_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """.env itself given a second name outside (no event here), found by the look, then
    written through that name after the tree was prepared (no event, no look since): the
    tree's version is not what git found, and the tree is set aside as before (nothing named
    from it; the bytes git replaced live on at the other name)."""
    put_venv_on_path(monkeypatch)
    r = env_repo(tmp_path, store_dir)
    other = tmp_path / "backup.env"
    cfg = wconfig.WatchConfig(quiet=NEVER, max_delay=NEVER, prepare=0.1)
    with _daemon(store_dir, r, cfg) as d:
        (r / ".env").write_bytes(MINE)
        _read(d)
        os.link(r / ".env", other)
        _look_now(d, r)
        assert _linked(store_dir, r) == {b"": frozenset({b".env"})}  # (the case tested)
        seq = _prepared_now(d, store_dir, r, ".env", MINE)
        _past_ctime(r / ".env")
        other.write_bytes(b"SECRET=changed through the other name\n")
        _read(d)
        d.flush_marks()
        assert _marks(store_dir, r, seq) == set(), "an event marked it: not the case tested"
        past_a_tick()
        ran = _git_beside(d, r, "checkout", "feat")
    assert ran.reports == [], ran.err  # (without the rule: .env named from the tree)
    assert "prepared" not in {s["trigger"] for s in snaps(r)}
    assert other.read_bytes() == b"SECRET=changed through the other name\n"


# --------------------------------------------------------------------------- the rule itself


def _tree(began: float) -> prep.Prep:
    """A logged tree begun at *began* (wall seconds), every mark after it (none here)."""
    p = prep.Prep(b"", "", "", "", 0, 0, [], None, {})
    p.seq, p.began = 0, began
    return p


def test_changed_since_asks_the_file_not_its_folders(tmp_path: Path) -> None:
    """prep.changed_since, a dirty set of this process (a live daemon's pid): a path is set
    aside when it is a file the daemon named as having other names, or lies in a linked
    folder that names none; a linked folder above its own, or a file there not named, is
    not. A name found no longer so still counts for a tree begun before that (git's file
    written over it, a look before the hook asks). Names written by another daemon (an older
    one's leftovers: another pid) are not trusted: the folder counts whole."""
    store, top = str(tmp_path / "store"), tmp_path / "wt"
    (top / "sub" / "deep").mkdir(parents=True)
    (top / "pkg").mkdir()
    linked = {
        str(top): frozenset({"shared.txt"}),
        str(top / "sub" / "deep"): frozenset({"x"}),
        str(top / "pkg"): None,  # (every file there, or too many to name)
    }
    dirtyset.watching(store, str(top), linked=linked)
    began = time.time()

    def aside(*paths: bytes, since: float = began) -> bool:
        with dirtyset._db(store, str(top)) as con:  # (the marks of folders leaving: another rule)
            con.execute("DELETE FROM marks")
        return prep.changed_since(store, str(top), _tree(since), time.time(), set(paths))

    assert not aside(b".env")  # (was: set aside, the top folder linked)
    assert not aside(b"sub/.env")  # (was: too, the top above it)
    assert not aside(b"sub/deep/y")
    assert aside(b"shared.txt")
    assert aside(b"sub/deep/x")
    assert aside(b"pkg/index.js")
    assert aside(b".env", b"sub/deep/x")
    assert _linked(tmp_path / "store", top) == {
        b"": frozenset({b"shared.txt"}),
        b"sub/deep": frozenset({b"x"}),
        b"pkg": None,
    }
    # published again: .env has other names, shared.txt no longer; the top then leaves
    dirtyset.set_linked(store, str(top), {str(top): frozenset({".env"})})
    assert aside(b".env")
    assert aside(b"shared.txt")  # (it had other names after the tree began)
    dirtyset.set_linked(store, str(top), {})
    assert aside(b".env")  # (git's file written over it, a look before the hook: still)
    later = time.time() + 1.0
    assert not aside(b".env", since=later)  # (a tree begun after it was found gone)
    assert aside(b".env", since=later - 2 * dirtyset.GONE_KEPT_S)  # (older than kept)
    # names another process wrote: the folder counts whole
    dirtyset.set_linked(store, str(top), {str(top): frozenset({"shared.txt"})})
    assert not aside(b".env", since=later)
    with dirtyset._db(store, str(top)) as con:
        con.execute("UPDATE linked_names SET pid = pid + 1")
    assert aside(b".env", since=later)
    # the folders alone (a list: whole folders)
    dirtyset.set_linked(store, str(top), [str(top)])
    assert aside(b".env", since=later)
    assert _linked(tmp_path / "store", top) == {b"": None}
