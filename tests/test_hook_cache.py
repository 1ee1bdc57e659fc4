"""A hook after a git command that changed nothing in the worktree leaves the files cache as
it was: git writes in .git at every command, and a record that kept .git's lstat made every
hook rewrite the whole cache (M: 7.3 MB, 25 ms of CPU after the walk)."""

from __future__ import annotations

from pathlib import Path

from storehelpers import D
from storehelpers import F
from storehelpers import build
from storehelpers import take
from test_filescache import settle

from git_snapshot.store import Store
from git_snapshot.store import filescache
from git_snapshot.store.archiver import Options


def test_a_git_command_does_not_rewrite_the_files_cache(tmp_path: Path) -> None:
    src = tmp_path / "src"
    build(src, D({b".git": D({b"HEAD": F(b"ref: main")}), b"a": F(b"1"), b"d": D({b"b": F(b"2")})}))
    settle()

    def snap(store: Store) -> bytes:
        return take(store, "s", src, Options(omit=frozenset({b".git"}))).root

    with Store(tmp_path / "s") as store:
        first = snap(store)
        cache = Path(filescache.cache_path(store.cache_dir, "s", str(src)))
        before = cache.stat()
        (src / ".git" / "ORIG_HEAD").write_bytes(b"x")  # .git's mtime moves, as git's writes
        settle()
        assert snap(store) == first
        after = cache.stat()
        assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
        (src / "a").write_bytes(b"changed")  # a change in the worktree is still saved
        settle()
        assert snap(store) != first
        now = cache.stat()  # written again, or appended to (filescache.update)
        assert (now.st_ino, now.st_size) != (before.st_ino, before.st_size)
