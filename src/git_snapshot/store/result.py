"""What a snapshot returns (:class:`Result`), apart from the archiver: a hook whose snapshot
reuses the last one (the watcher's dirty set says nothing changed) returns one without
importing the archiver, the pack writer and what they import."""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (the hook path)
if TYPE_CHECKING:
    from git_snapshot.store.index import Snapshot


class Result:
    """A plain class with __slots__, not a dataclass (dataclasses imports inspect, ast...)."""

    __slots__ = ("base", "changed", "ids", "new", "snapshot")

    def __init__(
        self,
        snapshot: Snapshot,
        new: bool,  # False: the tree was identical to the last snapshot, which is returned
        # rebuilt from the snapshot whose root is *base* (Options.marks): the paths of the
        # files and links whose entry differs from the base's, as diff_trees(base, root)
        # names them less what was added; None when not known (then diff the trees)
        base: bytes = b"",
        changed: list[bytes] | None = None,
        # and of the files it read there: path -> (inode, mtime, ctime, size as the read's
        # fstat gave them, git's blob id of what it read, the entry's label), for
        # gitwrote._written_during
        ids: dict[bytes, tuple[int, int, int, int, str, int]] | None = None,
    ) -> None:
        self.snapshot = snapshot
        self.new = new
        self.base = base
        self.changed = changed
        self.ids = ids

    def __repr__(self) -> str:
        return f"Result(snapshot={self.snapshot!r}, new={self.new})"
