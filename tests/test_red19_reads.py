"""RED19 on a walk's read of a file as listed (reading._read_listed, and the batch read in C
of session 19, store/readmany.py, where built): a file changed between its folder's listing
and its read must be stored as it is then, never with another file's bytes nor with a stat
that is not its content's, and never hang (a FIFO) or follow a symlink. The change is made
from the labeller's call for a subfolder listed before it (a real file system race made at
a known point: the folder's files after that subfolder are read after its walk). Sizes at
the read's bounds round-trip byte-exact."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from storehelpers import D
from storehelpers import F
from storehelpers import L
from storehelpers import build
from storehelpers import diff
from storehelpers import restore
from storehelpers import scan
from storehelpers import snapshot_contents
from storehelpers import take

from git_snapshot.store import Store
from git_snapshot.store import archiver
from git_snapshot.store import walker
from git_snapshot.store.reading import SMALL_FILE


def _same_size_new_inode(p: Path) -> None:
    st = p.stat()
    tmp = p.with_name("tmp-swap")
    tmp.write_bytes(b"X" * st.st_size)
    os.utime(tmp, ns=(st.st_atime_ns, st.st_mtime_ns))
    os.rename(tmp, p)


def _same_size_in_place(p: Path) -> None:
    st = p.stat()
    with open(p, "r+b") as f:
        f.write(b"Y" * st.st_size)
    os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns))


def _fifo(p: Path) -> None:
    p.unlink()
    os.mkfifo(p)


def _symlink(p: Path) -> None:
    p.unlink()
    os.symlink(p.parent.parent.parent / "secret", p)


def _folder(p: Path) -> None:
    p.unlink()
    p.mkdir()
    (p / "inner").write_bytes(b"inner")


CHANGES: dict[str, Callable[[Path], object]] = {
    "grown": lambda p: p.write_bytes(p.read_bytes() + b" and more"),
    "shrunk": lambda p: p.write_bytes(p.read_bytes()[:3]),
    "emptied": lambda p: p.write_bytes(b""),
    "same size, new inode": _same_size_new_inode,
    "same size, in place": _same_size_in_place,
    "fifo": _fifo,
    "symlink": _symlink,
    "gone": lambda p: p.unlink(),
    "folder": _folder,
    "mode": lambda p: p.chmod(0o755),
}


@pytest.mark.parametrize("trusted", [False, True])
@pytest.mark.parametrize("change", list(CHANGES))
def test_a_file_changed_after_its_listing_is_stored_as_it_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change: str, trusted: bool
) -> None:
    """d/ lists a_sub/ then b.txt, c.txt, e.txt: b.txt and e.txt change while a_sub is
        walked (its label asked), after d's listing and before their read; a first snapshot and
        the next one (its files cache, records trusted at once or not) hold the worktree as it
        is then, byte for byte and stat for stat (the first: each file as listed or as it is
    then)."""
    if trusted:
        monkeypatch.setattr(walker, "RACY_NS", 0)
    (tmp_path / "secret").write_bytes(b"never to be stored")
    src = tmp_path / "w" / "src"
    build(
        src,
        D(
            {
                b"d": D(
                    {
                        b"a_sub": D({b"x": F(b"x")}),
                        b"b.txt": F(b"bravo " * 50),
                        b"c.txt": F(b"charlie"),
                        b"e.txt": F(b"echo " * 7),
                    }
                )
            }
        ),
    )
    done: list[bytes] = []

    def classify(rel: bytes, is_dir: bool, parent: int) -> int:
        if rel == b"d/a_sub" and not done:
            done.append(rel)
            for name in ("b.txt", "e.txt"):
                CHANGES[change](src / "d" / name)
        return 0

    opts = archiver.Options(classify=classify, rules="r")
    before = scan(src)
    with Store(tmp_path / "store") as s:
        first = take(s, "s", src, opts)
        assert done
        now = scan(src)
        # each file as listed or as it is now, whole (d's own listing is from before)
        for rel, seen in snapshot_contents(s, first).items():
            assert seen.kind == "dir" or seen in (before.get(rel), now.get(rel)), rel
        again = take(s, "s", src, opts)
        files = {rel: x for rel, x in scan(src).items() if x.kind != "other"}  # (a FIFO: skipped)
        assert diff(files, snapshot_contents(s, again)) == []
        out = tmp_path / "out"
        restore(s, again, out)
        assert b"never" not in b"".join(x.data for x in scan(out).values())


def test_files_at_the_read_bounds_round_trip(tmp_path: Path) -> None:
    """Files of 0 and 1 bytes, at SMALL_FILE (read whole below it, streamed from it) and one
    byte either side, and several whose sizes add up past one batch of reads."""
    sizes = [0, 1, 2, SMALL_FILE - 2, SMALL_FILE - 1, SMALL_FILE, SMALL_FILE + 1]
    files: dict[bytes, F | L | D] = {
        b"s%02d" % k: F(bytes([k + 1]) * n) for k, n in enumerate(sizes)
    }
    files.update({b"t%02d" % k: F(os.urandom(1500 * 1024)) for k in range(6)})
    files[b"u-empty"] = F(b"")
    src = tmp_path / "src"
    build(src, D({b"d": D(files), b"z": F(b"last")}))
    with Store(tmp_path / "store") as s:
        snap = take(s, "s", src)
        assert diff(scan(src), snapshot_contents(s, snap)) == []
        out = tmp_path / "out"
        restore(s, snap, out)
        assert diff(scan(src), scan(out)) == []
