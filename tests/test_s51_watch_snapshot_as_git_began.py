"""The watcher's own snapshot sent as `git checkout` began (s51, found by s51hl: a NEW
ignored .env written exactly snapshot.watchQuiet before `git checkout feat`, feat tracking
one: no line, and SECRET=mine in no snapshot, 5 of 5 runs at 3.0 s).

The quiet period ends as git begins: the daemon's snapshot walks while git writes, reads
feat's .env, and commits before post-checkout. It moved the dirty set's base, so the
worker's prepared tree holding SECRET=mine (built on the snapshot before) was no longer
logged on the base (prep.logged), and _before rightly set the watch snapshot aside (committed
after git began, RED35 H1): compared with the snapshot before, which lacks .env, nothing was
lost. Now the snapshot that moved the base keeps the marks it dropped after such a tree
(dirtyset._keep_dropped), and post-checkout commits the tree built on the newest snapshot
committed before git began (prep.logged_before), asking those marks too: a change the user
made after the tree and before git (an rm) sets it aside, as on the base. And what that
snapshot read while git wrote (a half-written .env) is git's: never named from it.

Real git, the hooks `git snapshot install` puts in place, the daemon in this process (its
snapshot sent when the test says: after git wrote .env, before post-checkout runs, which a
line put at the top of the installed hook holds until then; no timing)."""

from __future__ import annotations

import os
import select
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from clihelpers import Ran
from clihelpers import git
from clihelpers import gs
from hookhelpers import by_id
from hookhelpers import put_venv_on_path
from hookhelpers import restore
from hookhelpers import snaps
from prephelpers import past_a_tick
from test_pl48_look_explained import _daemon
from test_pl48_look_explained import _prepared
from test_pl48_look_explained import _read
from test_pl48_look_explained import _snapshot
from test_red48_new_ignored_prepared import THEIRS
from test_red48_new_ignored_prepared import env_repo

from git_snapshot.watch import config as wconfig
from git_snapshot.watch import daemon as wdaemon
from git_snapshot.watch import dirtyset

INOTIFY = pytest.mark.skipif(
    not os.path.exists("/proc/sys/fs/inotify"), reason="inotify (Linux) only"
)
NEVER = 3600.0
MINE = b"SECRET=mine\n"
CFG = wconfig.WatchConfig(quiet=NEVER, max_delay=NEVER, prepare=0.1)


def _held_hook(r: Path, name: str = "post-checkout") -> tuple[Path, Path]:
    """The hook *name*, as installed, first says it began (*held*, which holds git's pid) and
    waits for *go*."""
    hook = r / ".git" / "hooks" / name
    held, go = r.parent / "held", r.parent / "go"
    first, rest = hook.read_text().split("\n", 1)
    wait = (
        f"echo $PPID > '{held}.new' && mv '{held}.new' '{held}';"
        f" while [ ! -e '{go}' ]; do sleep 0.01; done\n"
    )
    hook.write_text(f"{first}\n{wait}{rest}")
    return held, go


def _checkout_with_watch_snapshot(
    d: wdaemon.Daemon,
    r: Path,
    half: bytes | None = None,
    read: bool = True,
    snap: Callable[[wdaemon.Daemon, Path], int] = _snapshot,
    argv: tuple[str, ...] = ("git", "checkout", "feat"),
    hook: str = "post-checkout",
) -> tuple[Ran, int, int]:
    """`git checkout feat` while the daemon here runs (test_pl48's _git_beside); once git
    has written the worktree and its post-checkout is held, the daemon reads git's events and
    takes its own snapshot (as one sent at quiet's end as git began: committed after git
    began, before post-checkout), then the hook goes on. Returns git's run, that snapshot's
    id and the dirty set's base seq once it committed. *half*: .env holds it while that
    snapshot walks (as git's write under way: the new file made, its bytes not all
    written), git's bytes after. *read*: git's events are marked before that snapshot
    begins (else after: it begins with the tree's marks, and walks, git's index having
    changed the labels the tree was made with). *snap*: takes that snapshot (the daemon's,
    sent and answered), returns its id. *argv*: the git command, *hook* the one held."""
    held, go = _held_hook(r, hook)
    out: list[bytes] = []
    err: list[bytes] = []
    watch = base = -1
    pipe = subprocess.PIPE
    with subprocess.Popen(argv, cwd=r, stdin=subprocess.DEVNULL, stdout=pipe, stderr=pipe) as p:
        assert p.stdout is not None and p.stderr is not None
        pipes = {p.stdout.fileno(): out, p.stderr.fileno(): err}
        deadline = time.monotonic() + 120
        try:
            while pipes:
                assert time.monotonic() < deadline, "git did not end"
                if watch < 0 and held.exists():
                    if d.busy:  # (a preparation sent 0.1 s after git's events: answered first,
                        d.worker_ready()  # else no snapshot could be sent now)
                    written = (r / ".env").read_bytes() if half is not None else b""
                    if half is not None:
                        (r / ".env").write_bytes(half)
                    if read:
                        _read(d)  # (git's writes marked, after it began)
                    watch = snap(d, r)
                    base = _base_seq(Path(d.store_path), r)
                    _read(d)
                    if half is not None:
                        (r / ".env").write_bytes(written)
                        _read(d)
                    go.touch()
                w = d.child
                fds = [d.src.fileno(), *pipes] if read or watch >= 0 else [*pipes]
                if w is not None and w.stdout is not None and d.busy:
                    fds.append(w.stdout.fileno())
                ready, _, _ = select.select(fds, [], [], 0.05)
                for fd in ready:
                    if fd in pipes:
                        chunk = os.read(fd, 65536)
                        if chunk:
                            pipes[fd].append(chunk)
                        else:
                            del pipes[fd]
                if d.src.fileno() in ready and (read or watch >= 0):
                    _read(d)
                if w is not None and w.stdout is not None and w.stdout.fileno() in ready:
                    d.worker_ready()
                d.maybe_snapshot(wdaemon._now())
        except BaseException:
            go.touch()  # (post-checkout waits for it: else git, and this test, never end)
            raise
        rc = p.wait(timeout=60)
    ran = Ran(rc, b"".join(out).decode(errors="replace"), b"".join(err).decode(errors="replace"))
    assert rc == 0 and "Traceback" not in ran.err, ran.err
    assert watch > 0, "post-checkout never ran"
    return ran, watch, base


def _base_seq(store: Path, r: Path) -> int:
    """The dirty set's base (the marks up to it went with the snapshot that made it)."""
    with dirtyset._db(str(store), str(r), create=False) as con:
        (base_seq,) = con.execute("SELECT base_seq FROM state").fetchone()
    return int(base_seq)


def named_from_the_tree(r: Path, ran: Ran) -> None:
    """post-checkout's one line names .env from the prepared tree (trigger ``prepared``,
    which holds SECRET=mine), and its printed restore gives SECRET=mine back (after a switch
    to main: .env is tracked on feat)."""
    assert [rep.names for rep in ran.reports] == [".env"], ran.err
    (rep,) = ran.reports
    assert by_id(r, rep.snap)["trigger"] == "prepared", ran.err
    assert gs(r, "cat", f"{rep.snap}:.env").out.encode() == MINE
    git(r, "switch", "-q", "main")
    restore(r, rep)
    assert (r / ".env").read_bytes() == MINE


@INOTIFY
@pytest.mark.parametrize("read", [True, False], ids=["git-marked-first", "no-mark-after"])
def test_a_new_env_is_named_when_the_watch_snapshot_read_gits_version(
    tmp_path: Path, store_dir: Path, monkeypatch: pytest.MonkeyPatch, read: bool
) -> None:
    """The watch snapshot holds feat's .env (read after git wrote it) and commits before
    post-checkout: .env is named from the prepared tree, and its printed restore gives
    SECRET=mine back. Was: "unchanged since snapshot N", no line. Its dirty set's marks
    either went past the tree's (git's write marked) or not (then no mark was dropped after
    the tree, and the base moved all the same: 2 of 8 repro runs after the first fix)."""
    put_venv_on_path(monkeypatch)
    r = env_repo(tmp_path, store_dir)
    with _daemon(store_dir, r, CFG) as d:
        (r / ".env").write_bytes(MINE)  # new, ignored on main
        _read(d)
        p = _prepared(d, store_dir, r, ".env", MINE)
        past_a_tick()
        ran, watch, base = _checkout_with_watch_snapshot(d, r, read=read)
    # (the case tested: that snapshot moved the base past the tree's marks, the marks between
    # dropped, or to them: either way prep.logged no longer gives the tree)
    assert base > p.seq if read else base == p.seq
    assert (r / ".env").read_bytes() == THEIRS
    assert gs(r, "cat", f"{watch}:.env").out.encode() == THEIRS  # (git's, as the race has it)
    named_from_the_tree(r, ran)  # (was: no line)
    gs(r, "verify", "--read-data")


@INOTIFY
def test_a_tree_the_user_changed_since_is_set_aside_when_the_base_moved(
    tmp_path: Path, store_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The other side: the user deleted .env after the tree, before git (`rm .env && git
    checkout feat`): git destroyed nothing, and no line says it did. The mark of the rm went
    with the watch snapshot that moved the base; it is kept and asked: without it, the tree's
    SECRET=mine was named as what git overwrote (a false report)."""
    put_venv_on_path(monkeypatch)
    r = env_repo(tmp_path, store_dir)
    with _daemon(store_dir, r, CFG) as d:
        (r / ".env").write_bytes(MINE)
        _read(d)
        p = _prepared(d, store_dir, r, ".env", MINE)
        (r / ".env").unlink()
        _read(d)  # (marked before git began, in the daemon's order too)
        past_a_tick()
        ran, _, base = _checkout_with_watch_snapshot(d, r)
    assert base > p.seq  # (the rm's mark went with the watch snapshot)
    assert (r / ".env").read_bytes() == THEIRS
    assert ran.reports == [], ran.err
    assert "prepared" not in {s["trigger"] for s in snaps(r)}


@INOTIFY
def test_a_watch_snapshot_of_gits_half_written_file_is_not_named(
    tmp_path: Path, store_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same race, the watch snapshot's walk reading .env while git writes it (made,
    empty, its bytes not yet written): that snapshot holds git's half-written version, which
    differs from the disk after. It is not the user's: .env is named from the prepared tree
    (SECRET=mine). Was: named from the watch snapshot (an empty .env: a false report, and
    SECRET=mine not named)."""
    put_venv_on_path(monkeypatch)
    r = env_repo(tmp_path, store_dir)
    with _daemon(store_dir, r, CFG) as d:
        (r / ".env").write_bytes(MINE)
        _read(d)
        _prepared(d, store_dir, r, ".env", MINE)
        past_a_tick()
        ran, watch, _ = _checkout_with_watch_snapshot(d, r, half=b"")
    assert gs(r, "cat", f"{watch}:.env").out.encode() == b""  # (the case tested)
    assert (r / ".env").read_bytes() == THEIRS
    named_from_the_tree(r, ran)  # (was: named from the watch one)
