"""A damaged object of a snapshot in flight does not stop post-checkout's check (RED34 D2).

rev53 fixed it for git's autostash (test_s53_autostash_in_flight, damaged-in-flight). post-
checkout's findlosses._from_flight read the trees of each snapshot in flight with no care
for a damaged object: _read_as_written looked up each path named from the snapshot before in
a watch snapshot whose walk began after git did (_entry_at), and one damaged folder tree of
it raised CorruptObject out of find_losses: "could not check what git checkout destroyed",
and what the snapshot before holds was named by nothing. Now such a snapshot is passed over
and the snapshot before is named, hedged (what the damaged one held is not known).

The daemon in this process takes its snapshot while git's post-checkout is held (test_s51's
_checkout_with_watch_snapshot); no timing decides an outcome."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from conftest import init_repo
from hookhelpers import by_id
from hookhelpers import put_venv_on_path
from hookhelpers import restore
from hookhelpers import snaps
from prephelpers import past_a_tick
from test_pl48_look_explained import _daemon
from test_pl48_look_explained import _read
from test_pl48_look_explained import _snapshot
from test_s51_watch_snapshot_as_git_began import INOTIFY
from test_s51_watch_snapshot_as_git_began import MINE
from test_s51_watch_snapshot_as_git_began import NEVER
from test_s51_watch_snapshot_as_git_began import _checkout_with_watch_snapshot
from test_s52_red_flight_versions import NEWEST
from test_s52_red_flight_versions import OLD
from test_s52_red_flight_versions import _Recorded
from test_s53_autostash_in_flight import _damage
from test_watch_daemon import add

from git_snapshot.watch import config as wconfig
from git_snapshot.watch import daemon as wdaemon

THEIRS = b"SECRET=feat's\n"


def _sub_env_repo(tmp_path: Path, store_dir: Path) -> Path:
    """main ignores *.env and tracks sub/a.txt; feat tracks sub/.env; the hooks installed,
    the repository added to the watched ones."""
    r = Path(os.path.realpath(init_repo(tmp_path / "wt")))
    (r / ".gitignore").write_text("*.env\n")
    (r / "sub").mkdir()
    (r / "sub" / "a.txt").write_text("a\n")
    git(r, "add", ".")
    git(r, "commit", "-q", "-m", "init")
    git(r, "switch", "-q", "-c", "feat")
    (r / "sub" / ".env").write_bytes(THEIRS)
    git(r, "add", "-f", "sub/.env")
    git(r, "commit", "-q", "-m", "feat tracks sub/.env")
    git(r, "switch", "-q", "main")
    ran = gs(r, "install", GIT_SNAPSHOT_WATCH="0")
    assert "reference-transaction: installed" in ran.out + ran.err, ran
    add(store_dir, r)
    return r


@INOTIFY
@pytest.mark.parametrize("cmd", ["checkout", "merge"])
def test_a_damaged_watch_snapshot_in_flight_leaves_the_snapshot_before_named(
    tmp_path: Path, store_dir: Path, monkeypatch: pytest.MonkeyPatch, cmd: str
) -> None:
    """sub/.env (MINE, ignored on main) saved by `git snapshot create`; `git checkout feat`
    (or `git merge feat`, a fast-forward) writes feat's over it; the watcher's snapshot, its
    walk begun after git began, committed before the post-hook, read sub/ (with a note.txt
    since changed: its sub/ tree is its own), and that tree is damaged. sub/.env is named
    from the snapshot before, hedged (the merge's is checked by its reference-transaction
    hook: undamaged, exact), and it gives MINE back. Was: "could not check what git
    checkout destroyed" (git merge), no line."""
    put_venv_on_path(monkeypatch)
    r = _sub_env_repo(tmp_path, store_dir)
    (r / "sub" / ".env").write_bytes(MINE)
    gs(r, "create", "-m", "saved before")
    (earlier,) = [s["id"] for s in snaps(r) if s["message"] == "saved before"]
    cfg = wconfig.WatchConfig(quiet=NEVER, max_delay=NEVER, prepare=NEVER)
    with _daemon(store_dir, r, cfg) as d:
        past_a_tick()

        def snap(d: wdaemon.Daemon, r: Path) -> int:
            (r / "sub" / "note.txt").write_bytes(b"in the watch snapshot only\n")
            _read(d)
            got = _snapshot(d, r)
            (r / "sub" / "note.txt").write_bytes(b"changed since\n")
            _damage(r, got, b"sub")
            return got

        argv, hook = ("git", cmd, "feat"), f"post-{cmd}"
        ran, watch, _ = _checkout_with_watch_snapshot(d, r, snap=snap, argv=argv, hook=hook)
    assert (r / "sub" / ".env").read_bytes() == THEIRS
    assert by_id(r, watch)["trigger"] == "watch" and watch > earlier
    assert gs(r, "cat", f"{watch}:sub/.env", rc=None).rc != 0  # (the case tested: damaged)
    assert "could not check" not in ran.err, ran.err
    assert [(rep.names, rep.snap) for rep in ran.reports] == [("sub/.env", earlier)], ran.err
    assert not ran.reports[0].exact, ran.err  # (the damaged one's copy is not known)
    assert f"restore {earlier} sub/.env" in ran.err
    assert gs(r, "cat", f"{earlier}:sub/.env").out.encode() == MINE


@INOTIFY
def test_a_damaged_snapshot_before_leaves_the_newer_copy_in_flight_named(
    tmp_path: Path, store_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The other side: the snapshot before is the damaged one. sub/.env OLD saved by `git
    snapshot create`, then NEWEST; the watcher's snapshot committed in git's first tick read
    NEWEST before `git checkout feat` wrote (test_s52's in-gits-tick case: in flight), and
    the earlier snapshot's sub/ tree is damaged. NEWEST is named from the watch snapshot,
    hedged, and its restore gives NEWEST back. Was: _from_flight read the earlier
    snapshot's entries of what the watch snapshot holds (store.diff.lost) with no care for
    a damaged object: "could not check what git checkout destroyed", no line."""
    put_venv_on_path(monkeypatch)
    r = _sub_env_repo(tmp_path, store_dir)
    (r / "sub" / ".env").write_bytes(OLD)
    gs(r, "create", "-m", "saved before")
    (earlier,) = [s["id"] for s in snaps(r) if s["message"] == "saved before"]
    rec = _Recorded(monkeypatch, tmp_path / "worker")
    cfg = wconfig.WatchConfig(quiet=NEVER, max_delay=NEVER, prepare=NEVER)
    with _daemon(store_dir, r, cfg) as d:
        (r / "sub" / ".env").write_bytes(NEWEST)
        saved = os.lstat(r / "sub" / ".env").st_mtime
        _read(d)
        rec.walked = time.time()  # (after NEWEST, before git)
        rec.after = 0.0005  # (in git's first tick)
        past_a_tick()

        def snap(d: wdaemon.Daemon, r: Path) -> int:
            written = (r / "sub" / ".env").read_bytes()
            (r / "sub" / ".env").write_bytes(NEWEST)  # (as read before git wrote)
            os.utime(r / "sub" / ".env", (saved, saved))
            _read(d)
            got = rec.snap(d, r)
            (r / "sub" / ".env").write_bytes(written)
            _damage(r, earlier, b"sub")  # (its sub/ tree: OLD's, its own)
            return got

        ran, watch, _ = _checkout_with_watch_snapshot(d, r, snap=snap)
    assert (r / "sub" / ".env").read_bytes() == THEIRS
    assert by_id(r, watch)["trigger"] == "watch" and watch > earlier
    assert gs(r, "cat", f"{earlier}:sub/.env", rc=None).rc != 0  # (the case tested: damaged)
    assert "could not check" not in ran.err, ran.err
    assert [(rep.names, rep.snap) for rep in ran.reports] == [("sub/.env", watch)], ran.err
    assert not ran.reports[0].exact, ran.err  # (in flight: hedged)
    git(r, "switch", "-q", "main")
    restore(r, ran.reports[0])
    assert (r / "sub" / ".env").read_bytes() == NEWEST


def test_a_damaged_folder_of_the_snapshot_before_is_said_not_compared(
    tmp_path: Path, store_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No watcher: sub/a.txt edited, saved by `git snapshot create`, its sub/ tree damaged,
    `git checkout -f` discards the edit (no commit moves: only gitwrote._rewritten's diff of
    the snapshots before and after finds it). The hook says sub/a.txt could not be compared
    in that snapshot. Was: "could not check what git checkout destroyed" (the diff raised);
    with the damaged folder merely left out of the diff, nothing named sub/a.txt."""
    put_venv_on_path(monkeypatch)
    r = _sub_env_repo(tmp_path, store_dir)
    (r / "sub" / "a.txt").write_bytes(b"my edit\n")
    gs(r, "create", "-m", "saved before")
    (earlier,) = [s["id"] for s in snaps(r) if s["message"] == "saved before"]
    _damage(r, earlier, b"sub")
    ran = git(r, "checkout", "-f")
    assert (r / "sub" / "a.txt").read_bytes() == b"a\n"
    assert "could not check" not in ran.err, ran.err
    (line,) = [ln for ln in ran.err.splitlines() if "sub/a.txt" in ln]
    assert f"snapshot {earlier}" in line, ran.err
