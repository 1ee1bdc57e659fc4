"""RED26 (session 26): a worktree nested past PATH_MAX (4096 bytes: 30 folders of 200-byte
names) failed every snapshot: the walk lists a folder by its path, then lstats each entry by
path + name, and one entry's path past PATH_MAX raised ENAMETOOLONG through the whole walk:
"cannot take the snapshot: <6,000 bytes of path>: File name too long; ... run it again",
and again at every run: nothing of the worktree was protected. `git snapshot diff` against
the worktree crashed the same way. Now an entry that cannot be lstat'ed by its path is left
out and said ("unreadable: File name too long"), at every snapshot (its folder's record
neither keeps its tree nor trusts its names), everything else kept; messages name such a
path shortened."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from conftest import committed_repo
from storehelpers import restore
from storehelpers import scan
from storehelpers import snapshot_contents
from storehelpers import take
from test_red26_far_dates import _split
from test_red26_far_dates import impl as impl  # (the fixture: C and twin)

from git_snapshot import gitrepo
from git_snapshot import output
from git_snapshot import worktree
from git_snapshot.store import Store
from git_snapshot.store import diff
from git_snapshot.store import splitwalk
from git_snapshot.store import walker
from git_snapshot.watch import dirtyset
from git_snapshot.watch import instance

NAME = "d" * 200
TOO_LONG = "unreadable: File name too long"


def _deep(top: Path) -> tuple[bytes, bytes]:
    """Folders of 200-byte names below *top*, the last one's path PATH_MAX - 50 bytes long,
    with a file in it (its path fits) and a folder of a 200-byte name, holding a file (its
    path is past PATH_MAX: no lstat by path reaches it): the relative paths of that file
    kept and of that folder left out. Made through descriptors (no path is that short)."""
    here = os.fsencode(top)
    rel = b""
    max_path = os.pathconf(here, "PC_PATH_MAX")
    fd = os.open(here, os.O_RDONLY)

    def down(name: bytes) -> None:
        nonlocal fd, rel
        os.mkdir(name, dir_fd=fd)
        nfd = os.open(name, os.O_RDONLY, dir_fd=fd)
        os.close(fd)
        fd, rel = nfd, rel + name + b"/"

    while max_path - 50 - len(here) - len(rel) - 1 > 255:  # (then 55-255 bytes are left)
        down(NAME.encode())
    down(b"e" * (max_path - 50 - len(here) - len(rel) - 1))  # (a path of max_path - 50)
    assert len(here) + len(rel) == max_path - 50  # (here, a slash, rel without its last)
    with open(os.open("kept.txt", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd), "wb") as f:
        f.write(b"kept at the bottom\n")
    os.mkdir(NAME, dir_fd=fd)
    nfd = os.open(NAME, os.O_RDONLY, dir_fd=fd)
    with open(os.open("lost.txt", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=nfd), "wb") as f:
        f.write(b"too deep\n")
    os.close(nfd)
    os.close(fd)
    return rel + b"kept.txt", rel + NAME.encode()


def _skipped(snap: object) -> list[list[str]]:
    return [list(x) for x in snap.meta["skipped_paths"]]  # type: ignore[attr-defined]


def _child_first(monkeypatch: pytest.MonkeyPatch) -> None:
    """The split walk, its child done before the parent walks: the parent then meets the
    child's answer for every folder the child could answer (under load the usual case, and
    how a first version lost the skip: the child answered the folder whose entry it left
    out, having noted the skip for its parent only, and the parent took the answer)."""
    _split(monkeypatch)
    real = splitwalk.start

    def start(w: object, root: bytes) -> splitwalk.Split | None:
        got = real(w, root)
        while got is not None and got.child.fd >= 0:
            got._drain()
        return got

    monkeypatch.setattr(splitwalk, "start", start)


@pytest.mark.parametrize("split", ["one-process", "split", "child-first"])
def test_an_entry_past_path_max_is_left_out_and_said_by_every_snapshot(
    tmp_path: Path, impl: str, split: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(walker, "RACY_NS", 0)  # later walks trust what their records allow
    if split == "split":
        _split(monkeypatch)
    elif split == "child-first":
        _child_first(monkeypatch)
    src = tmp_path / "src"
    src.mkdir()
    (src / "top.txt").write_bytes(b"top\n")
    kept, lost = _deep(src)
    with Store(tmp_path / "store") as store:
        for _ in range(3):  # the first walk, then walks with its records
            snap = take(store, "s", src)
            got = snapshot_contents(store, snap)
            assert got[kept].data == b"kept at the bottom\n" and got[b"top.txt"].data == b"top\n"
            assert [os.fsdecode(lost), TOO_LONG] in _skipped(snap)
            assert snap.skipped == 1 and lost not in got
            (line,) = output.snapshot_warnings(snap)
            assert line.endswith(f"{os.fsdecode(NAME[-40:])} (File name too long)"), line
            assert len(line) < 250
        (src / "top.txt").write_bytes(b"top, edited\n")  # a walk that builds folders again
        snap = take(store, "s", src)
        assert [os.fsdecode(lost), TOO_LONG] in _skipped(snap)
        back = tmp_path / "back"
        restore(store, snap, back)  # (its deepest file's path fits: the restore writes it)
        held = snapshot_contents(store, snap)
        assert scan(back) == held and held[b"top.txt"].data == b"top, edited\n"
        assert held[kept].mtime_ns == os.lstat(os.path.join(os.fsencode(src), kept)).st_mtime_ns


def test_a_repo_nested_past_path_max_is_snapshot_and_compared(tmp_path: Path) -> None:
    repo = committed_repo(tmp_path / "repo")
    _deep(repo)
    r = gs(repo)  # (gs fails on an internal error or a traceback)
    assert "snapshot 1:" in r.out and "File name too long" in r.out + r.err
    assert max(len(x) for x in (r.out + r.err).splitlines()) < 400
    assert "nothing was stored" not in r.out + r.err
    gs(repo, "diff", "1")  # the worktree against it: no crash on what cannot be lstat'ed
    gs(repo, "install")
    (repo / "README").write_text("edited\n")
    r = git(repo, "checkout", "-b", "other")
    assert "snapshot 2 (post-checkout)" in r.err and "File name too long" in r.err, r.err


def test_a_rebuild_told_of_an_entry_past_path_max_leaves_it_out(
    repo: Path, store_dir: Path
) -> None:
    """The watcher's path (store/rebuild.py): an event names an entry whose path is past
    PATH_MAX (its folder's fits, so the folder could be watched)."""
    kept, lost = _deep(repo)
    with Store() as store, instance.hold(store.path) as got:
        assert got
        dirtyset.watching(store.path, str(repo))
        found = gitrepo.find_repo(str(repo))
        worktree.take(store, found, trigger="watch")  # the base: a full walk
        full = os.path.join(os.fsencode(repo), lost)
        dirtyset.mark(store.path, str(repo), [], [os.fsdecode(full)])
        snap = worktree.take(store, found, trigger="watch").snapshot
        assert [os.fsdecode(lost), TOO_LONG] in _skipped(snap)
        assert snapshot_contents(store, snap)[kept].data == b"kept at the bottom\n"


def test_a_long_path_is_named_shortened_between_characters() -> None:
    assert output.brief(b"a/short/path") == "a/short/path"
    path = b"\xff" * 300 + "\u00e9".encode() * 100 + b"/\x1b[31m"
    got = output.brief(path)
    head, _, tail = got.partition("...")
    # each part the shell word for it (RED34), cut between characters: a byte no encoding
    # takes is one, and no escape is cut
    assert head == "\"$(printf '" + "\\377" * (output.BRIEF // 4) + "')\""
    assert tail == "\"$(printf '" + "\\303\\251" * (output.BRIEF // 2 - 6) + "/\\033[31m')\""


def test_the_loss_check_does_not_name_what_it_cannot_lstat(tmp_path: Path) -> None:
    """diff.lost (the watcher's record of what a burst destroyed): an entry the snapshot
    holds whose path on disk cannot be lstat'ed (here: the worktree's copy lies so deep that
    the path passes PATH_MAX) is neither named lost nor an error."""
    src = tmp_path / "src"
    (src / "a").mkdir(parents=True)
    (src / "a" / "f.txt").write_text("f\n")
    with Store(tmp_path / "store") as store:
        snap = take(store, "s", src)
        deep = os.fsencode(tmp_path) + b"/" + b"/".join([b"x" * 250] * 17)  # ~4,300 bytes
        assert diff.lost(store, snap.root, deep, [b"a/f.txt"]) == []
        assert diff.lost(store, snap.root, deep) == []  # (the whole tree: not listable)
        gone = diff.lost(store, snap.root, os.fsencode(tmp_path / "nowhere"), [b"a/f.txt"])
        assert [p for p, _, _ in gone] == [b"a/f.txt"]  # (a path that fits and is gone: lost)
