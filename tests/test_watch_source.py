"""The inotify source reads and decodes events itself (watch/source.py): the same events, in
the same order, as inotify_simple's own reader gives, on real inotify data: files created,
written, closed, chmodded, renamed, deleted, folders made and removed (the watched folder's own
end included), names that are not UTF-8."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from git_snapshot.watch import source as ev

pytestmark = pytest.mark.skipif(
    not os.path.exists("/proc/sys/fs/inotify"), reason="inotify (Linux) only"
)


def _as_before(raw: bytes) -> list[ev.Event]:
    """What the source gave before it decoded events itself: inotify_simple's events, each
    turned into an Event by the first of its flags that is set."""
    from inotify_simple import flags as f
    from inotify_simple import parse_events

    out = []
    for e in parse_events(raw):
        mask = e.mask
        if mask & f.Q_OVERFLOW:
            out.append(ev.Event(-1, ev.OVERFLOW, "", False))
        elif mask & f.IGNORED:
            out.append(ev.Event(e.wd, ev.UNWATCHED, "", True))
        elif mask & (f.DELETE_SELF | f.MOVE_SELF | f.UNMOUNT):
            out.append(ev.Event(e.wd, ev.SELF_GONE, "", True))
        else:
            for bit, kind in (
                (f.CREATE, ev.CREATE),
                (f.DELETE, ev.DELETE),
                (f.MOVED_FROM, ev.MOVED_FROM),
                (f.MOVED_TO, ev.MOVED_TO),
                (f.MODIFY, ev.MODIFY),
                (f.CLOSE_WRITE, ev.CLOSE_WRITE),
                (f.ATTRIB, ev.ATTRIB),
            ):
                if mask & bit:
                    # (with the cookie that pairs a rename's two events: RED35 M1)
                    out.append(ev.Event(e.wd, kind, e.name, bool(mask & f.ISDIR), e.cookie))
                    break
    return out


def _raw(src: ev.Inotify) -> bytes:
    got = b""
    while True:
        try:
            chunk = os.read(src.fileno(), 1 << 16)
        except BlockingIOError:
            return got
        got += chunk


NAMES = st.sampled_from(
    ["a", "b.txt", "with space", "caf\xe9", os.fsdecode(b"raw\xff\xfe"), "x" * 200]
)
OPS = st.lists(
    st.tuples(
        st.sampled_from(["write", "append", "chmod", "rename", "delete", "mkdir", "rmdir"]), NAMES
    ),
    min_size=1,
    max_size=30,
)


def _apply(d: Path, op: str, name: str) -> None:
    p = d / name
    if op in ("write", "append"):
        if not p.is_dir():
            with open(p, "a" if op == "append" else "w") as f:
                f.write("data\n")
    elif op == "chmod" and p.exists():
        os.chmod(p, 0o600 if p.stat().st_mode & 0o077 else 0o644)
    elif op == "rename" and p.exists():
        to = d / (name + ".moved")
        if not to.exists() or to.is_dir() == p.is_dir():  # (rename(2): a folder over a file,
            os.replace(p, to)  # or a file over a folder, fails)
    elif op == "delete" and p.is_file():
        p.unlink()
    elif op == "mkdir" and not p.exists():
        p.mkdir()
    elif op == "rmdir" and p.is_dir():
        shutil.rmtree(p)


@settings(max_examples=40, deadline=None)
@given(ops=OPS)
def test_events_as_inotify_simple_reads_them(
    tmp_path_factory: pytest.TempPathFactory, ops: list[tuple[str, str]]
) -> None:
    d = tmp_path_factory.mktemp("w")
    src = ev.Inotify()
    try:
        src.add(str(d))
        for op, name in ops:
            _apply(d, op, name)
        shutil.rmtree(d)  # the watched folder itself: SELF_GONE, then UNWATCHED
        raw = _raw(src)
        assert raw
        assert src.parse(raw) == _as_before(raw)
    finally:
        src.close()


def test_read_gives_what_is_ready(tmp_path: Path) -> None:
    src = ev.Inotify()
    try:
        assert src.read() == []
        wd = src.add(str(tmp_path))
        (tmp_path / "sub").mkdir()
        (tmp_path / "f").write_text("x")
        got = src.read()
        assert got[0] == ev.Event(wd, ev.CREATE, "sub", True)
        assert [(e.kind, e.name) for e in got[1:]] == [
            (ev.CREATE, "f"),
            (ev.MODIFY, "f"),
            (ev.CLOSE_WRITE, "f"),
        ]
        assert src.read() == []
    finally:
        src.close()
