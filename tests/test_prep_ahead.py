"""Files read ahead by the worker while the writes go on (watch/warm.py's ``ahead``, the
daemon's hint): a preparation takes a file's read only when no mark of it is newer than the
read (the dirty set's seq when the read began), in the same epoch, and its lstat is the
read's fstat; else it reads the file itself. The base's trees above the marked entries are
split ahead too. Whatever it makes is byte for byte the full walk's."""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_prep_tree import _take
from test_prep_tree import watched  # noqa: F401  (a fixture)
from test_prep_warm import based  # noqa: F401  (a fixture)
from test_prep_warm import kept  # noqa: F401  (a fixture)
from test_watch_dirtyset import Daemon
from test_watch_dirtyset import _full
from test_watch_dirtyset import _same

from git_snapshot.store import Store
from git_snapshot.store import rebuild
from git_snapshot.store import treebytes
from git_snapshot.store.index import Snapshot
from git_snapshot.store.walker import _Walker
from git_snapshot.watch import dirtyset
from git_snapshot.watch import prep
from git_snapshot.watch import take
from git_snapshot.watch.warm import Warmer


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[bytes]]:
    """The files the walker read itself (not taken from a read ahead)."""
    seen: list[bytes] = []
    real = _Walker._read

    def spy(self: Any, path: bytes, last_try: bool) -> Any:
        seen.append(path)
        return real(self, path, last_try)

    monkeypatch.setattr(_Walker, "_read", spy)
    try:
        yield seen
    finally:
        rebuild.ahead_clear()


def _read_ahead(w: Warmer, top: Path, want: set[bytes], timeout: float = 30.0) -> None:
    """Hint *w* at *top* and wait until it holds the files *want* (absolute)."""
    w.ahead(str(top))
    deadline = time.monotonic() + timeout
    while not want <= set(rebuild._AHEAD):
        assert time.monotonic() < deadline, "the files were not read ahead"
        time.sleep(0.01)
        w.ahead(str(top))
    w.pause()


def _edit(top: Path, daemon: Daemon) -> tuple[Path, Path]:
    a = top / "a" / "b" / "c" / "f0.txt"
    e = top / "e" / "f1.txt"
    a.write_text("edited a\n")
    e.write_text("edited e\n")
    daemon.entries(a, e)
    return a, e


def test_a_preparation_takes_the_files_and_trees_read_ahead_and_is_the_full_walk(
    based: tuple[Store, Path, Daemon, Snapshot],  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    reads: list[bytes],
) -> None:
    store, top, daemon, _ = based
    a, e = _edit(top, daemon)
    w = Warmer()
    _read_ahead(w, top, {os.fsencode(a), os.fsencode(e)})
    loaded: list[bytes] = []
    real = treebytes.load

    def spy(store: Any, keys: Any) -> Any:
        keys = list(keys)
        loaded.extend(keys)
        return real(store, keys)

    monkeypatch.setattr(treebytes, "load", spy)
    out = take.prepare(str(top))
    assert out["prepared"] is not None, out
    assert reads == []  # both files came from the read ahead
    assert loaded == []  # and the trees above them were split ahead
    assert not rebuild._AHEAD  # taken
    daemon.ack_syncs()
    res = _take(store, top, trigger="post-checkout")
    assert res.new
    assert _same(res.snapshot) == _same(_full(top, tmp_path / "x"))
    assert sorted(res.changed) == [b"a/b/c/f0.txt", b"e/f1.txt"]


def _planted(store: Store, top: Path, path: Path, content: bytes, later: int = 0) -> None:
    """A read ahead of *path* holding *content* (as long as the file), with the file's own
    fstat, read at the dirty set's seq now (*later*: that many seqs before it)."""
    begun = dirtyset.begin(store.path, str(top))
    assert begun is not None
    st = os.lstat(path)
    assert len(content) == st.st_size
    key = hashlib.sha256(content).digest()
    tag = (begun.epoch, begun.base_root)
    assert rebuild.ahead_put(os.fsencode(path), tag, begun.seq - later, st, content, key)


def _bytes_of(store: Store, snap: Snapshot, rel: str) -> bytes:
    key = snap.root
    parts = rel.split("/")
    for name in parts:
        entries = rebuild.split(store.read_object(key))
        assert entries is not None
        key = rebuild._ref(entries[name.encode()])
    return store.read_object(key)


def test_a_read_ahead_is_taken_only_without_a_newer_mark_and_with_the_same_stat(
    based: tuple[Store, Path, Daemon, Snapshot],  # noqa: F811
    reads: list[bytes],
) -> None:
    store, top, daemon, _ = based
    a, e = _edit(top, daemon)
    fake = b"EDITED A\n"  # what a read ahead would hold if the file was rewritten after it
    # as current as the marks: taken as read (the test's fake bytes stand for it)
    _planted(store, top, a, fake)
    # a mark newer than the read (a write after it began): not taken, the file is read
    daemon.entries(e)
    _planted(store, top, e, b"EDITED E\n", later=1)
    assert take.prepare(str(top))["prepared"] is not None
    daemon.ack_syncs()
    res = _take(store, top, trigger="post-checkout")
    assert _bytes_of(store, res.snapshot, "a/b/c/f0.txt") == fake
    assert _bytes_of(store, res.snapshot, "e/f1.txt") == b"edited e\n"
    assert reads == [os.fsencode(e)]


@pytest.mark.parametrize("how", ["epoch", "base", "stat", "unmarked"])
def test_a_read_ahead_of_another_epoch_base_stat_or_an_unmarked_file_is_not_taken(
    based: tuple[Store, Path, Daemon, Snapshot],  # noqa: F811
    reads: list[bytes],
    how: str,
) -> None:
    store, top, daemon, _ = based
    a, _ = _edit(top, daemon)
    begun = dirtyset.begin(store.path, str(top))
    assert begun is not None
    st = os.lstat(a)
    fake = b"EDITED A\n"
    epoch, seq, path, base = begun.epoch, begun.seq, a, begun.base_root
    if how == "epoch":
        epoch += 1
    elif how == "base":
        base = bytes(32)
    elif how == "stat":
        os.utime(a, ns=(st.st_atime_ns, st.st_mtime_ns + 1))  # (the read's fstat is older)
    else:  # a file nothing marked: the rebuild does not look at it, nothing is known of it
        path = top / "a" / "d" / "f1.txt"
        st = os.lstat(path)
        fake = b"A/D 1\n"
    key = hashlib.sha256(fake).digest()
    assert rebuild.ahead_put(os.fsencode(path), (epoch, base), seq, st, fake, key)
    assert take.prepare(str(top))["prepared"] is not None
    daemon.ack_syncs()
    res = _take(store, top, trigger="post-checkout")
    assert _bytes_of(store, res.snapshot, "a/b/c/f0.txt") == b"edited a\n"
    assert _bytes_of(store, res.snapshot, "a/d/f1.txt") == b"a/d 1\n"


def test_marked_since_and_entry_seqs_give_the_marks_by_seq(
    watched: tuple[Store, Path, Daemon],  # noqa: F811
) -> None:
    store, top, daemon = watched
    daemon.entries(top / "a" / "x", top / "y")
    daemon.entries(top / "a" / "x")
    daemon.mark(top / "e")  # a folder mark: not a file to read
    got = prep.marked_since(store.path, str(top), 0, 10)
    assert got is not None
    _, last, _, rows = got
    assert [r for _, r in rows] == [b"a/x", b"y", b"a/x"]
    assert last >= rows[-1][0]
    seqs = prep.entry_seqs(store.path, str(top), last)
    assert seqs == {b"a/x": rows[2][0], b"y": rows[1][0]}
    got = prep.marked_since(store.path, str(top), rows[0][0], 1)
    assert got is not None and [r for _, r in got[3]] == [b"y"]


def test_the_worker_takes_a_hint_line_as_no_job(store: Store, tmp_path: Path) -> None:
    """The daemon's hint (``{"ahead": W}``) starts the read ahead and gets no answer: the
    daemon reads one answer per job."""
    import json
    import subprocess
    import sys

    lines = [
        json.dumps({"ahead": str(tmp_path / "nowhere")}),
        json.dumps({"worktree": str(tmp_path / "nowhere"), "bursts": []}),
    ]
    out = subprocess.run(
        [sys.executable, "-m", "git_snapshot.watch.take", "--serve"],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert [json.loads(x) for x in out.stdout.splitlines()] == [{"log": []}]


def test_the_daemons_hint_is_written_only_to_an_idle_worker_and_never_waits() -> None:
    import types

    from git_snapshot.watch import daemon as daemon_mod

    r, wfd = os.pipe()
    try:
        child = types.SimpleNamespace(stdin=os.fdopen(wfd, "wb"), poll=lambda: None)
        d = daemon_mod.Daemon.__new__(daemon_mod.Daemon)
        d.cfg = types.SimpleNamespace(prepare=0.1)  # type: ignore[assignment]
        d.child = child  # type: ignore[assignment]
        d.child_tree = d.child_bursts = d.child_prep = None
        tree: Any = types.SimpleNamespace(root="/w", hinted=0.0)
        d.hint(tree, 100.0)
        assert os.read(r, 1000) == b'{"ahead": "/w"}\n'
        d.hint(tree, 100.001)  # too soon after the last
        d.child_prep = tree  # a job runs: the worker does not read its input
        d.hint(tree, 200.0)
        d.child_prep = None
        os.set_blocking(r, False)
        with pytest.raises(BlockingIOError):
            os.read(r, 1000)
        os.set_blocking(wfd, False)  # a worker that does not read: the pipe fills up
        with contextlib.suppress(BlockingIOError):
            while True:
                os.write(wfd, b"x" * 4096)
        os.set_blocking(wfd, True)
        hinting = threading.Thread(target=d.hint, args=(tree, 300.0), daemon=True)
        hinting.start()
        hinting.join(60)  # (a blocking write would hang for ever: the test fails instead)
        assert not hinting.is_alive()
        assert os.get_blocking(wfd)
    finally:
        os.close(r)
        child.stdin.close()
