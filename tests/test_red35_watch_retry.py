"""RED35 W1: a burst whose recording fails for a reason no retry cures was retried forever.

watch/take.record_bursts caught any exception recording a burst's loss entry and gave the
burst back to be retried (5 s to 10 min back-off, without end), and `watch status` said
"cannot write to the store ... free space on its disk". A damaged snapshot (its pack emptied)
or a bug (a TypeError) is no full disk: the user was told the wrong cause and the wrong
advice, and the deleted paths never reached `git snapshot losses`. Now only what a retry can
cure (the disk full, the store's database locked) is retried and said so; otherwise the burst
is recorded as well as it can be (what can be read compared, what cannot named as not
compared, and why) and `watch status` and the daemon's log say what happened and what to do.

A real daemon (tests/test_watch_daemon.py's fixture), real git.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

import pytest
from clihelpers import gs
from test_watch_daemon import EXE
from test_watch_daemon import Watcher
from test_watch_daemon import add
from test_watch_daemon import config
from test_watch_daemon import make_repo
from test_watch_daemon import paths_in
from test_watch_daemon import wait_for
from test_watch_daemon import watch_snaps
from test_watch_daemon import watcher  # noqa: F401  (the fixture)

from git_snapshot.store import Store
from git_snapshot.store.objects import CorruptObject
from git_snapshot.watch import take

N = 60

# Loaded by every Python process of the test (PYTHONPATH): in the recorder, with
# W1_BUG set, bursts.record raises a TypeError, as a bug in it would.
_BUG = """
import os
if os.environ.get("W1_BUG"):
    from git_snapshot.watch import bursts

    def _broken(*args, **kwargs):
        raise TypeError("unsupported operand type(s) for +: 'int' and 'str'")

    bursts.record = _broken
"""


def _watched_data(tmp_path: Path, store_dir: Path, watcher: Watcher) -> Path:  # noqa: F811
    config(burstFiles=50, burstSeconds=1)
    repo = make_repo(tmp_path)
    (repo / "data").mkdir()
    for i in range(N):
        (repo / "data" / f"f{i}.txt").write_text(f"{i}\n")
    add(store_dir, repo)
    watcher.start()
    watcher.watching(repo)
    wait_for(
        lambda: any(f"data/f{N - 1}.txt" in paths_in(s) for s in watch_snaps(repo)),
        what="a watch snapshot holding data/",
    )
    wait_for(lambda: not watcher.tree(repo).get("changed_since"), what="nothing pending")
    return repo


def _status_text(store_dir: Path) -> str:
    env = {**os.environ, "GIT_SNAPSHOT_STORE": str(store_dir)}
    return subprocess.run(
        [EXE, "watch", "status"], capture_output=True, text=True, env=env, check=False
    ).stdout


def _problem(store_dir: Path, words: str) -> str:
    """`watch status` once its problem line says *words* (the status is written a moment
    after the entry)."""

    def said() -> str:
        text = _status_text(store_dir)
        return text if any(_is_problem(ln, words) for ln in text.splitlines()) else ""

    try:
        got: str = wait_for(said, timeout=30, what=f"watch status saying {words!r}")
    except AssertionError:
        raise AssertionError(f"status: {_status_text(store_dir)}") from None
    return got


def _is_problem(line: str, words: str) -> bool:
    return line.startswith("watcher: ") and " pid " not in line and words in line


def _entries(repo: Path) -> list[dict[str, object]]:
    got: list[dict[str, object]] = json.loads(gs(repo, "losses", "--json").out or "[]")
    return got


def _the_entry(repo: Path, store_dir: Path, watcher: Watcher) -> Any:  # noqa: F811
    """The one loss entry the watcher records for *repo*, once it is there."""
    try:
        entries = wait_for(lambda: _entries(repo), what="the loss entry")
    except AssertionError:
        raise AssertionError(
            f"no entry; status: {_status_text(store_dir)}\nlog: {watcher.log()[-3000:]}"
        ) from None
    (entry,) = entries
    return entry


def _named(entry: dict[str, object]) -> set[str]:
    items = [*entry.get("lost", []), *entry.get("unsaved", [])]  # type: ignore[misc]
    return {str(x["path"]) for x in items}


def test_a_damaged_snapshot_is_said_and_the_burst_still_recorded(
    tmp_path: Path,
    store_dir: Path,
    watcher: Watcher,  # noqa: F811
) -> None:
    repo = _watched_data(tmp_path, store_dir, watcher)
    with Store() as s:  # the watch snapshot's pack (data/'s files and trees), emptied
        loc = s.index.locate(hashlib.sha256(b"5\n").digest())
        assert loc is not None
        Path(s.pack_path(loc.pack)).write_bytes(b"")
    shutil.rmtree(repo / "data")
    entry = _the_entry(repo, store_dir, watcher)
    named = _named(entry)
    assert {f"data/f{i}.txt" for i in range(N)} <= named, entry
    whys = {str(x["why"]) for x in entry["unsaved"]}
    assert whys and all("damaged" in w and "git snapshot verify" in w for w in whys), entry
    listed = gs(repo, "losses").out
    assert "data/" in listed and "not saved" in listed, listed
    status = _problem(store_dir, "damaged")
    assert "cannot write" not in status, status
    assert "free space" not in status, status
    (line,) = [ln for ln in status.splitlines() if ln.startswith("watcher: a loss record")]
    assert "damaged" in line and "git snapshot verify" in line, status
    assert "damaged" in watcher.log(), watcher.log()[-3000:]
    assert "not recorded yet" not in watcher.log(), watcher.log()[-3000:]


def test_a_bug_recording_a_burst_is_said_and_the_burst_still_recorded(
    tmp_path: Path,
    store_dir: Path,
    watcher: Watcher,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(_BUG)
    monkeypatch.setenv("PYTHONPATH", str(site))
    monkeypatch.setenv("W1_BUG", "1")
    repo = _watched_data(tmp_path, store_dir, watcher)
    shutil.rmtree(repo / "data")
    entry = _the_entry(repo, store_dir, watcher)
    lost = {str(x["path"]) for x in entry["lost"]}
    assert lost == {f"data/f{i}.txt" for i in range(N)}, entry  # (untracked: all lost)
    assert entry["restore"] == ["data"], entry
    status = _problem(store_dir, "internal error")
    assert "cannot write" not in status, status
    (line,) = [ln for ln in status.splitlines() if ln.startswith("watcher: recording a loss")]
    assert "TypeError" in line and "please report it" in line, status
    assert "TypeError" in watcher.log(), watcher.log()[-3000:]


@pytest.mark.parametrize(
    ("exc", "transient"),
    [
        (OSError(errno.ENOSPC, "No space left on device"), True),
        (OSError(errno.EDQUOT, "Disk quota exceeded"), True),
        (OSError(errno.EIO, "Input/output error"), True),
        (NotADirectoryError(errno.ENOTDIR, "Not a directory"), True),  # (RED34's losses file)
        (sqlite3.OperationalError("database or disk is full"), True),
        (sqlite3.OperationalError("database is locked"), True),
        (CorruptObject("object 1234 in pack x.pack is unreadable: pack is truncated"), False),
        (sqlite3.DatabaseError("database disk image is malformed"), False),
        (TypeError("unsupported operand"), False),
        (KeyError("paths"), False),
    ],
)
def test_which_failures_a_retry_may_cure(exc: BaseException, transient: bool) -> None:
    assert take.transient(exc) is transient
