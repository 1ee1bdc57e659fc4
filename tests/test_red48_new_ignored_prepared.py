"""A new ignored file made just before `git switch`, the watcher running (session 47's user
trial of the README's own example, wt48).

main ignores .env, feat tracks one. With the watcher running, a NEW ignored .env written
less than snapshot.watchQuiet (3 s) before `git checkout feat` was in no snapshot and named
by nothing when git overwrote it: the worker prepares the next snapshot 0.1 s after a change
(snapshot.watchPrepare) and post-checkout commits that prepared tree to name what git
destroyed (RED44 F6), but the worker refused to prepare whenever git's labels differed from
its base's, and a new ignored file always changes git's ignored list.

Now the dirty set keeps git's ignored answer with its base, and the worker prepares with
other labels when git's tracked answer is the base's and every path whose ignored status
changed is labelled in the rebuilt tree as a full walk labels it (an ignored folder that
came or went: only when the rebuild walked it whole, or it is gone); else it refuses, as
before. The prepared tree's labels must be the full walk's, and a damaged kept answer is
refused quietly.

post-checkout names it (bd48): the daemon records where git took index.lock in its order of
events (prep.git_lock), so a file the prepared tree added where git wrote is set aside only
when the user changed it before that (tests/test_bd48_git_lock_bound.py: `rm .env && git
checkout feat` in one line is still not named); prep.logged keeps a tree whose only change
is an added file."""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
import zlib
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from conftest import init_repo
from hookhelpers import by_id
from hookhelpers import put_venv_on_path
from hookhelpers import restore
from hypothesis import HealthCheck
from hypothesis import example
from hypothesis import given
from hypothesis import settings
from prephelpers import NEVER
from prephelpers import prepared_with
from test_prep_tree import _prep
from test_prep_tree import _take
from test_prep_tree import watched  # noqa: F401  (a fixture)
from test_watch_daemon import Watcher
from test_watch_daemon import add
from test_watch_daemon import config
from test_watch_daemon import watcher  # noqa: F401  (the fixture)
from test_watch_dirtyset import OPS
from test_watch_dirtyset import Daemon
from test_watch_dirtyset import _apply
from test_watch_dirtyset import _full
from test_watch_dirtyset import _make_tree

from git_snapshot.store import Store
from git_snapshot.watch import dirtyset
from git_snapshot.watch import take

MINE = b"SECRET=mine\n"
THEIRS = b"SECRET=feat's, tracked there\n"
REFUSED = "git's labels changed"


# --------------------------------------------------------------------------- the README's case


@pytest.fixture
def w(watcher: Watcher, monkeypatch: pytest.MonkeyPatch) -> Watcher:  # noqa: F811
    put_venv_on_path(monkeypatch)
    return watcher


def env_repo(tmp_path: Path, store_dir: Path) -> Path:
    """main ignores .env, feat tracks one (THEIRS); the hooks installed (no watcher of theirs:
    the test's own), a snapshot without .env, the repository added to the watched ones."""
    r = Path(os.path.realpath(init_repo(tmp_path / "wt")))
    (r / ".gitignore").write_text(".env\n")
    (r / "a.txt").write_text("a\n")
    git(r, "add", ".")
    git(r, "commit", "-q", "-m", "init")
    git(r, "switch", "-q", "-c", "feat")
    (r / ".env").write_bytes(THEIRS)
    git(r, "add", "-f", ".env")
    git(r, "commit", "-q", "-m", "feat tracks .env")
    git(r, "switch", "-q", "main")
    assert not (r / ".env").exists()
    ran = gs(r, "install", GIT_SNAPSHOT_WATCH="0")
    assert "reference-transaction: installed" in ran.out + ran.err, ran
    gs(r, "create", "-m", "before .env")
    add(store_dir, r)
    return r


def _readme_repo(tmp_path: Path, store_dir: Path, w: Watcher) -> Path:
    """The README's example: main ignores .env, feat tracks one; the hooks installed, a
    snapshot (the daemon's base: no .env), the watcher watching (preparing 0.1 s after a
    change, taking no snapshot of its own); then a NEW ignored .env (SECRET=mine), and the
    worker's preparation of it waited for (no timing)."""
    config(watchQuiet=NEVER, watchMaxDelay=NEVER, watchPrepare=0.1)
    r = env_repo(tmp_path, store_dir)
    w.start()
    w.watching(r)
    (r / ".env").write_bytes(MINE)  # new, ignored on main
    return r


@pytest.mark.skipif(not os.path.exists("/proc/sys/fs/inotify"), reason="inotify (Linux) only")
@pytest.mark.slow
def test_a_new_ignored_env_is_prepared_before_checkout(
    tmp_path: Path, store_dir: Path, w: Watcher
) -> None:
    """The worker prepares the new .env (before: never, git's labels differed from the
    base's): SECRET=mine is in the store before the checkout overwrites it."""
    r = _readme_repo(tmp_path, store_dir, w)
    p = prepared_with(store_dir, r, ".env", MINE)  # (before: never came)
    with Store(store_dir) as store:
        (blob,) = [e.ref for rel, e in store.walk(p.root) if rel == b".env"]
        assert b"".join(store.stream_blob(blob)) == MINE


@pytest.mark.skipif(not os.path.exists("/proc/sys/fs/inotify"), reason="inotify (Linux) only")
@pytest.mark.slow
def test_a_new_ignored_env_made_just_before_checkout_is_named(
    tmp_path: Path, store_dir: Path, w: Watcher
) -> None:
    """The README's example end to end: the hook names .env from the prepared tree and its
    printed restore gives SECRET=mine back."""
    r = _readme_repo(tmp_path, store_dir, w)
    prepared_with(store_dir, r, ".env", MINE)
    ran = git(r, "checkout", "feat")
    assert (r / ".env").read_bytes() == THEIRS
    (rep,) = ran.reports
    assert rep.names == ".env", ran.err
    assert by_id(r, rep.snap)["trigger"] == "prepared"
    git(r, "switch", "-q", "main")  # (.env tracked on feat: away with feat's version)
    restore(r, rep)
    assert (r / ".env").read_bytes() == MINE
    gs(r, "verify", "--read-data")


# --------------------------------------------------------------------------- labels stay true


def _prepared_is_full(store: Store, top: Path, tmp: Path, why: str | None = REFUSED) -> bool:
    """Prepare (the worker's job); True when it did, and then its tree is the full walk's
    (every label among it); False when it refused (for git's labels, unless *why* None)."""
    got = take.prepare(str(top))
    if got["prepared"] is None:
        assert why is None or str(got.get("why", "")).startswith(why), got
        return False
    p = _prep(store, top)
    assert p is not None and not p.marked
    full = _full(top, tmp / f"full{len(list(tmp.iterdir()))}")
    with Store(tmp / "full-walks") as other:
        walked = {rel: e.label for rel, e in other.walk(full.root)}
    with Store(store.path) as mine:  # (the worker's objects: in its own Store's writes)
        assert {rel: e.label for rel, e in mine.walk(p.root)} == walked
    assert p.root == full.root
    return True


def test_a_new_ignored_file_is_prepared(
    watched: tuple[Store, Path, Daemon],  # noqa: F811
    tmp_path: Path,
) -> None:
    """And the hook after it (its labels are not the base's: it walks everything, as
    before) keeps git's answer with its snapshot, the next base: a second new ignored file
    is prepared against that one."""
    store, top, daemon = watched
    _take(store, top)
    (top / "a" / "d" / "new.log").write_text("SECRET=mine\n")
    daemon.entries(top / "a" / "d" / "new.log")
    assert _prepared_is_full(store, top, tmp_path)
    daemon.ack_syncs()
    snap = _take(store, top, trigger="post-checkout").snapshot
    assert snap.root == _full(top, tmp_path / "hook").root
    (top / "e" / "other.log").write_text("SECRET=more\n")
    daemon.entries(top / "e" / "other.log")
    assert _prepared_is_full(store, top, tmp_path)


def test_a_dirty_set_of_schema_9_is_upgraded(
    watched: tuple[Store, Path, Daemon],  # noqa: F811
    tmp_path: Path,
) -> None:
    """A dirty set an older version made (no base_ignored): the column is added when it is
    opened, and the next base keeps git's answer."""
    store, top, daemon = watched
    path = dirtyset.journal_path(store.path, str(top))
    dirtyset._OPEN.clear()
    con = sqlite3.connect(path)
    try:
        con.execute("ALTER TABLE state DROP COLUMN base_ignored")
        con.execute("PRAGMA user_version = 9")
        con.commit()
    finally:
        con.close()
    _take(store, top)
    (top / "a" / "d" / "new.log").write_text("SECRET=mine\n")
    daemon.entries(top / "a" / "d" / "new.log")
    assert _prepared_is_full(store, top, tmp_path)


def test_a_new_ignored_folder_with_files_is_prepared(
    watched: tuple[Store, Path, Daemon],  # noqa: F811
    tmp_path: Path,
) -> None:
    """git lists it as `logs/` (all it holds is ignored): walked whole by the rebuild."""
    store, top, daemon = watched
    _take(store, top)
    (top / "a" / "logs" / "deep").mkdir(parents=True)
    (top / "a" / "logs" / "x.log").write_text("x\n")
    (top / "a" / "logs" / "deep" / "y.log").write_text("y\n")
    daemon.entries(top / "a" / "logs")
    daemon.mark(top / "a" / "logs", top / "a" / "logs" / "deep")
    assert _prepared_is_full(store, top, tmp_path)


def test_an_ignored_file_deleted_and_a_folder_gone_are_prepared(
    watched: tuple[Store, Path, Daemon],  # noqa: F811
    tmp_path: Path,
) -> None:
    store, top, daemon = watched
    _take(store, top)
    (top / "a" / "keep.log").unlink()
    shutil.rmtree(top / "build")  # (ignored: `build/`)
    daemon.entries(top / "a" / "keep.log", top / "build", *top.glob("build/**/*"))
    assert _prepared_is_full(store, top, tmp_path)


def test_a_gitignore_edit_that_relabels_an_unmarked_folder_is_refused(
    watched: tuple[Store, Path, Daemon],  # noqa: F811
    tmp_path: Path,
) -> None:
    """build/ un-ignored (its files untracked now), e/ ignored: neither marked, their
    labels in the base's trees are stale."""
    store, top, daemon = watched
    _take(store, top)
    for rules in ("*.log\n", "*.log\nbuild/\ne/\n"):
        (top / ".gitignore").write_text(rules)
        daemon.entries(top / ".gitignore")
        assert not _prepared_is_full(store, top, tmp_path)


@pytest.mark.parametrize("way", ["a non-ignored file added", "the non-ignored file deleted"])
def test_a_folder_listed_as_ignored_or_by_its_files(
    repo: Path, store_dir: Path, tmp_path: Path, way: str
) -> None:
    """`*.o` ignored: a folder holding only .o files is listed `objs/`, one holding another
    file too lists its .o files. The folder's own label changes (and, below it, labels
    inherited or not): refused, or right."""
    from git_snapshot.watch import instance

    _make_tree(repo)
    with open(repo / ".gitignore", "a") as f:
        f.write("*.o\n")
    (repo / "objs").mkdir()
    for n in ("a.o", "b.o"):
        (repo / "objs" / n).write_text(n)
    if way != "a non-ignored file added":
        (repo / "objs" / "x.c").write_text("c\n")
    with Store() as store, instance.hold(store.path) as got:
        assert got
        dirtyset.watching(store.path, str(repo))
        daemon = Daemon(store, repo)
        _take(store, repo)
        if way == "a non-ignored file added":
            (repo / "objs" / "x.c").write_text("c\n")
        else:
            (repo / "objs" / "x.c").unlink()
        daemon.entries(repo / "objs" / "x.c")
        _prepared_is_full(store, repo, tmp_path)


def test_git_add_of_an_untracked_file_is_prepared(
    watched: tuple[Store, Path, Daemon],  # noqa: F811
    tmp_path: Path,
) -> None:
    """git's tracked answer changed: prepared all the same, labelled as the full walk (red53
    F2: a file staged, then deleted by `checkout -f B`, was in no tree: take._retrack)."""
    store, top, daemon = watched
    _take(store, top)
    (top / "e" / "new.log").write_text("ignored\n")
    git(top, "add", "e/f0.txt")
    daemon.entries(top / "e" / "f0.txt", top / "e" / "new.log")
    assert _prepared_is_full(store, top, tmp_path)


@pytest.mark.slow
@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=OPS)
@example(steps=[("create", 0, 3, "z.log", False)])
@example(steps=[("ignore", 1, 0, "x", False), ("create", 1, 2, "z.log", True)])
@example(steps=[("mkdir", 0, 1, "x", False), ("ignore", 0, 0, "d1", False)])
def test_random_edits_give_prepared_trees_labelled_as_the_full_walk(
    watched: tuple[Store, Path, Daemon],  # noqa: F811
    tmp_path: Path,
    steps: list[tuple[str, int, int, str, bool]],
) -> None:
    """Random edits (new ignored files, .gitignore edits, git add among them), each
    prepared: every prepared tree is the full walk's, labels and all."""
    store, _, _ = watched
    top = Path(tempfile.mkdtemp(prefix="ex", dir=tmp_path))
    git(top, "init", "-q")
    _make_tree(top)
    dirtyset.watching(store.path, str(top))
    daemon = Daemon(store, top)
    _take(store, top)  # the base
    fulls = Path(tempfile.mkdtemp(prefix="full", dir=tmp_path))
    for op, i, j, name, by_folder in steps:
        _apply(top, daemon, op, i, j, name, by_folder)
        _prepared_is_full(store, top, fulls, why=None)


# --------------------------------------------------------------------------- a damaged answer


def _kept(store: Store, top: Path, value: object) -> None:
    path = dirtyset.journal_path(store.path, str(top))
    con = sqlite3.connect(path)
    try:
        con.execute("UPDATE state SET base_ignored = ?", (value,))
        con.commit()
    finally:
        con.close()
    dirtyset._OPEN.clear()  # (this process's connections: opened afresh)


@pytest.mark.parametrize(
    "kept",
    ["another answer", "truncated", "not zlib", "huge", "not bytes", "none"],
)
def test_a_damaged_kept_ignored_answer_is_refused(
    watched: tuple[Store, Path, Daemon],  # noqa: F811
    tmp_path: Path,
    kept: str,
) -> None:
    store, top, daemon = watched
    _take(store, top)
    real = dirtyset.base_ignored(store.path, str(top), dirtyset.begin(store.path, str(top)))  # type: ignore[arg-type]
    assert real is not None
    value: object = {
        "another answer": zlib.compress(b"a/keep.log\0build/\0other.log\0"),
        "truncated": real[:-3],
        "not zlib": b"\x00garbage" * 10,
        "huge": zlib.compress(b"x" * (dirtyset.RAW_MOST + 10)),
        "not bytes": "a/keep.log",
        "none": None,
    }[kept]
    _kept(store, top, value)
    (top / "a" / "d" / "new.log").write_text("SECRET=mine\n")
    daemon.entries(top / "a" / "d" / "new.log")
    got = take.prepare(str(top))
    assert got["prepared"] is None and str(got["why"]).startswith(REFUSED), got
    daemon.ack_syncs()
    snap = _take(store, top, trigger="post-checkout").snapshot  # the hook: a full walk
    assert snap.root == _full(top, tmp_path / "full").root
