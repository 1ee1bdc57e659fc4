"""What diff adds to a list of changes: path filters, ``--stat`` and ``-p``.

Path filters compare only the smallest folder both sides hold around each path, so that
``diff -- src/app.py`` never walks the rest of the worktree. Line counts and patches come from
difflib, for text files (no NUL byte in the first 8 KiB, at most 16 MiB); other files are
"binary", as git says.
"""

from __future__ import annotations

import os
import stat
from collections import namedtuple
from collections.abc import Callable
from collections.abc import Iterator

from git_snapshot import output
from git_snapshot.store import Store
from git_snapshot.store import validate
from git_snapshot.store.diff import ADDED
from git_snapshot.store.diff import DELETED
from git_snapshot.store.diff import MODE
from git_snapshot.store.diff import Change
from git_snapshot.store.history import Trees
from git_snapshot.store.objects import DIR
from git_snapshot.store.objects import FILE
from git_snapshot.store.objects import SYMLINK
from git_snapshot.store.objects import CorruptObject
from git_snapshot.store.objects import Entry

MAX_TEXT = 16 << 20
SNIFF = 8192

# the changes below one folder (its path, b'' for the top) that both sides hold
DiffDir = Callable[[bytes], list[Change]]
# whether the newer side (a snapshot's tree, or the disk) holds a folder at a path
IsDir = Callable[[bytes], bool]


def filtered(
    trees: Trees, old_root: bytes, new_is_dir: IsDir, diff_dir: DiffDir, paths: list[bytes]
) -> list[Change]:
    """The changes at *paths* and below them, each once, in path order. A path whose type
    changed has two (deleted, then added: RED36 B1, keyed by path alone the addition took
    the deletion's place), kept in the order the diff gives them."""
    out: dict[tuple[bytes, str], Change] = {}
    for path in paths:
        base = path
        while base and not (_held_dir(trees, old_root, base) and new_is_dir(base)):
            base = base.rpartition(b"/")[0]
        for c in diff_dir(base):
            if not path or c.path == path or c.path.startswith(path + b"/"):
                out.setdefault((c.path, c.status), c)
    return sorted(out.values(), key=lambda c: c.path)  # (stable: D before A at one path)


def _is_dir(e: Entry | None) -> bool:
    return e is not None and e.kind == DIR


def _held_dir(trees: Trees, root: bytes, path: bytes) -> bool:
    """Whether the tree *root* holds a folder at *path*; False when a folder on the way
    cannot be read (its parent's diff then names that damage)."""
    try:
        return _is_dir(trees.at(root, path))
    except CorruptObject:
        return False


class Unread:
    """A side whose content is not compared by line (*why*: too big, or unreadable on disk);
    without it such a side read as empty, and -p showed every line of the other deleted."""

    __slots__ = ("size", "why")

    def __init__(self, why: str, size: int) -> None:
        self.why = why
        self.size = size


def _size(side: bytes | Unread | None) -> int:
    return side.size if isinstance(side, Unread) else len(side or b"")


class Sides:
    """Reads the two sides of a change: the snapshot's entries, or the file on disk."""

    def __init__(
        self, store: Store, top: bytes | None, damaged: list[tuple[bytes, str]] | None = None
    ) -> None:
        self.store = store
        self.top = top  # the worktree, when the newer side is the disk
        # with a list: a file whose stored content cannot be read is named there (path, why)
        # and left out of --stat and -p; without, its damage is raised
        self.damaged = damaged

    def both(self, c: Change) -> tuple[bytes | Unread | None, bytes | Unread | None] | None:
        """(old, new) content of a file's change (None for a side it lacks); None when a
        stored side is damaged (then named in self.damaged)."""
        try:
            old = None if c.status == ADDED else self.old(c)
            new = None if c.status == DELETED else self.new(c)
        except CorruptObject as exc:
            if self.damaged is None:
                raise
            self.damaged.append((c.path, f"content unreadable: {exc}"))
            return None
        return old, new

    def old(self, c: Change) -> bytes | Unread | None:
        return self._entry(c.old)

    def new(self, c: Change) -> bytes | Unread | None:
        if self.top is None:
            return self._entry(c.new)
        if c.status == DELETED:
            return None
        return _disk(self.top + b"/" + c.path)

    def modes(self, c: Change) -> tuple[int | None, int | None]:
        """Each side's mode as git writes it (0o100644, 0o120000 for a link); None where
        that side holds no file or link."""
        old = None if c.status == ADDED else _git_mode(c.old)
        if c.status == DELETED:
            return old, None
        if self.top is None:
            return old, _git_mode(c.new)
        try:
            st = os.lstat(self.top + b"/" + c.path)
        except FileNotFoundError:
            return old, None
        except OSError:  # there, but not to be looked at: taken as unchanged
            return old, old or stat.S_IFREG | 0o644
        return old, None if stat.S_ISDIR(st.st_mode) else _stat_mode(st.st_mode)

    def _entry(self, e: Entry | None) -> bytes | Unread | None:
        if e is None or e.kind == DIR:
            return None
        if e.kind == SYMLINK:
            return e.ref
        if e.size > MAX_TEXT:
            return Unread(TOO_BIG, e.size)
        return validate.read_blob(self.store, e)


TOO_BIG = f"over {MAX_TEXT >> 20} MiB: not compared by line"


def _git_mode(e: Entry | None) -> int | None:
    if e is None or e.kind not in (FILE, SYMLINK):
        return None
    return stat.S_IFLNK if e.kind == SYMLINK else stat.S_IFREG | e.mode


def _stat_mode(mode: int) -> int:
    """A file's mode on disk as a snapshot records it (a link's own bits are not kept)."""
    return stat.S_IFLNK if stat.S_ISLNK(mode) else stat.S_IFREG | stat.S_IMODE(mode)


def _disk(path: bytes) -> bytes | Unread | None:
    try:
        st = os.lstat(path)
    except OSError as exc:
        return Unread(f"could not be read in the worktree: {exc.strerror}", 0)
    try:
        if stat.S_ISLNK(st.st_mode):
            return os.readlink(path)
        if not stat.S_ISREG(st.st_mode):
            return Unread("not a regular file in the worktree", 0)
        if st.st_size > MAX_TEXT:
            return Unread(TOO_BIG, st.st_size)
        with open(path, "rb") as f:
            data = f.read(MAX_TEXT + 1)
    except OSError as exc:
        return Unread(f"could not be read in the worktree: {exc.strerror}", st.st_size)
    return data if len(data) <= MAX_TEXT else Unread(TOO_BIG, len(data))


def is_text(data: bytes | Unread | None) -> bool:
    return isinstance(data, bytes) and len(data) <= MAX_TEXT and b"\0" not in data[:SNIFF]


def _lines(data: bytes | None) -> list[str]:
    """*data*'s lines, each with its newline, as git splits them: at LF only (str.splitlines
    also splits at a form feed, a lone CR, U+2028...: lines git never shows)."""
    if not data:
        return []
    lines = [line + "\n" for line in data.decode("utf-8", "surrogateescape").split("\n")]
    lines[-1] = lines[-1][:-1]  # what follows the last LF: "" after a final newline
    return lines if lines[-1] else lines[:-1]


def _is_file(c: Change, sides: Sides) -> bool:
    """Whether a change is of a file or link (folders have no content to compare)."""
    for e in (c.old, c.new):
        if e is not None:
            return e.kind in (FILE, SYMLINK)
    if sides.top is None:
        return False
    try:
        return not stat.S_ISDIR(os.lstat(sides.top + b"/" + c.path).st_mode)
    except OSError:
        return False


# no dataclasses nor typing at run time (they import inspect, ast...: ~15 ms of every diff)
TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from typing import Any
    from typing import NamedTuple

    class _Stat(NamedTuple):
        path: bytes
        status: str
        added: int | None  # lines; None for a binary file
        deleted: int | None
        old_size: int
        new_size: int
        why: str | None = None  # not compared by line, and why (too big, unreadable)

else:
    _Stat = namedtuple("_Stat", "path status added deleted old_size new_size why", defaults=[None])


class Stat(_Stat):
    __slots__ = ()

    def json(self) -> dict[str, Any]:
        return {
            "path": os.fsdecode(self.path),
            "status": self.status,
            "binary": self.added is None,
            "added_lines": self.added,
            "deleted_lines": self.deleted,
            "old_size": self.old_size,
            "new_size": self.new_size,
            **({"not_compared": self.why} if self.why else {}),
        }


def stats(changes: list[Change], sides: Sides) -> list[Stat]:
    import difflib  # only for --stat and -p
    import itertools

    out = []
    for c in changes:
        if not _is_file(c, sides):
            continue
        got = sides.both(c)
        if got is None:  # damaged: named, not counted as empty
            continue
        old, new = got
        if isinstance(old, Unread) or isinstance(new, Unread):
            why = next(x.why for x in (new, old) if isinstance(x, Unread))
            out.append(Stat(c.path, c.status, None, None, _size(old), _size(new), why))
            continue
        sizes = (len(old or b""), len(new or b""))
        if (old is None or is_text(old)) and (new is None or is_text(new)):
            plus = minus = 0
            # past its two header lines ('---', '+++'): a line '-- x' deleted is '--- x'
            for line in itertools.islice(
                difflib.unified_diff(_lines(old), _lines(new), n=0), 2, None
            ):
                plus += line.startswith("+")
                minus += line.startswith("-")
            out.append(Stat(c.path, c.status, plus, minus, *sizes))
        else:
            old_size = c.old.size if c.old is not None else sizes[0]
            out.append(Stat(c.path, c.status, None, None, old_size, sizes[1]))
    return out


def print_stat(rows: list[Stat], width: int = 40) -> None:
    """git's --stat: a line per file, then the totals; nothing when no file changed (as
    git, RED34 C4: "0 files changed" was printed)."""
    if not rows:
        return
    names = [output.display(r.path) for r in rows]
    pad = max((len(n) for n in names), default=0)
    most = max((r.added or 0) + (r.deleted or 0) for r in rows) if rows else 0
    scale = min(1.0, width / most) if most else 1.0
    for name, r in zip(names, rows):
        if r.why:
            print(f" {name.ljust(pad)} | {r.why}")
            continue
        if r.added is None or r.deleted is None:
            print(f" {name.ljust(pad)} | Bin {r.old_size} -> {r.new_size} bytes")
            continue
        bar = output.paint("+" * round(r.added * scale), "green") + output.paint(
            "-" * round(r.deleted * scale), "red"
        )
        print(f" {name.ljust(pad)} | {r.added + r.deleted:>5} {bar}")
    plus = sum(r.added or 0 for r in rows)
    minus = sum(r.deleted or 0 for r in rows)
    print(
        f" {len(rows)} file{'s' if len(rows) != 1 else ''} changed, "
        f"{plus} insertion{'s' if plus != 1 else ''}(+), "
        f"{minus} deletion{'s' if minus != 1 else ''}(-)"
    )


def patches(changes: list[Change], sides: Sides) -> Iterator[str]:
    """A unified diff per changed file or link, as ``git diff`` prints one: with its mode
    lines and an index line of git's blob ids (whose mode tells a link's target from a
    file's text); a file that became a link, or the other way round, as a deletion and an
    addition."""
    for c in changes:
        if c.status == MODE and _is_dir(c.old):
            yield from _folder_mode(c, sides)
            continue
        if not _is_file(c, sides):
            continue
        got = sides.both(c)
        if got is None:  # damaged: named, not shown as emptied
            continue
        old, new = got
        old_mode, new_mode = sides.modes(c)
        if old_mode and new_mode and stat.S_IFMT(old_mode) != stat.S_IFMT(new_mode):
            yield from _patch(c.path, (old, old_mode), (None, None))
            yield from _patch(c.path, (None, None), (new, new_mode))
        else:
            yield from _patch(c.path, (old, old_mode), (new, new_mode))


def _folder_mode(c: Change, sides: Sides) -> Iterator[str]:
    """A folder's mode change (RED34 C2) as git writes a file's: its header and mode lines,
    the mode a tree's (040000) with the folder's bits, which a snapshot keeps."""
    assert c.old is not None
    if sides.top is None:
        assert c.new is not None
        now = c.new.mode
    else:
        try:
            now = stat.S_IMODE(os.lstat(sides.top + b"/" + c.path).st_mode)
        except OSError:  # gone since it was compared
            return
    # (no content, no index line: as _patch writes a file's change of mode alone)
    yield f"diff --snapshot {output.display(b'a/' + c.path)} {output.display(b'b/' + c.path)}\n"
    yield f"old mode {stat.S_IFDIR | c.old.mode:06o}\n"  # (a line a yield: color_patch paints one)
    yield f"new mode {stat.S_IFDIR | now:06o}\n"


# a side of a patch: its content and its mode as git writes it (None, None: no file there)
Side = tuple["bytes | Unread | None", "int | None"]


def _patch(path: bytes, old_side: Side, new_side: Side) -> Iterator[str]:
    import difflib  # only for --stat and -p

    (old, old_mode), (new, new_mode) = old_side, new_side
    # each side's name one shell word, its a/ or b/ inside the quotes (as git's are)
    a_name, b_name = output.display(b"a/" + path), output.display(b"b/" + path)
    yield f"diff --snapshot {a_name} {b_name}\n"
    if old_mode is None and new_mode is not None:
        yield f"new file mode {new_mode:06o}\n"
    elif new_mode is None and old_mode is not None:
        yield f"deleted file mode {old_mode:06o}\n"
    elif old_mode != new_mode:
        yield f"old mode {old_mode:06o}\n"  # (a line a yield: color_patch paints one)
        yield f"new mode {new_mode:06o}\n"
    if isinstance(old, Unread) or isinstance(new, Unread):
        why = next(x.why for x in (new, old) if isinstance(x, Unread))
        yield f"Files {a_name} and {b_name} differ ({why})\n"
        return
    if old == new and old_mode is not None and new_mode is not None:
        return  # the mode alone changed: git prints no index line either
    # (no mode either side: an added file gone from disk between its read and its lstat)
    same = f" {old_mode:06o}" if old_mode == new_mode and old_mode is not None else ""
    yield f"index {_blob_id(old)}..{_blob_id(new)}{same}\n"
    a = "/dev/null" if old_mode is None else a_name
    b = "/dev/null" if new_mode is None else b_name
    if not ((old is None or is_text(old)) and (new is None or is_text(new))):
        yield f"Binary files {a} and {b} differ\n"
        return
    for line in difflib.unified_diff(_lines(old), _lines(new), a, b):
        yield line if line.endswith("\n") else line + "\n\\ No newline at end of file\n"


def _blob_id(data: bytes | None) -> str:
    """git's abbreviated object id of *data* as a blob ('0000000': no file there)."""
    if data is None:
        return "0" * 7
    from git_snapshot import hashes  # only for -p

    return hashes.blob_id(data)[:7]
