"""The one check of what a snapshot may hold, shared by verify, restore, export and diff.

Stored trees are untrusted input: a damaged or crafted store can hold any bytes that hash to
their key. Everything here refuses what no honest snapshot holds, so that ``verify`` names
exactly what ``restore`` and ``export`` refuse, and nothing downstream ever sees a name that
could leave its directory.
"""

from __future__ import annotations

import operator
import struct
from collections.abc import Callable
from collections.abc import Iterator

from git_snapshot import words
from git_snapshot.errors import UserError
from git_snapshot.store import ctree
from git_snapshot.store.core import Store
from git_snapshot.store.index import Location
from git_snapshot.store.objects import DIR
from git_snapshot.store.objects import FILE
from git_snapshot.store.objects import HEAD
from git_snapshot.store.objects import SYMLINK
from git_snapshot.store.objects import TREE_MAGIC
from git_snapshot.store.objects import CorruptObject
from git_snapshot.store.objects import Entry
from git_snapshot.store.objects import decode_tree

_new = tuple.__new__  # an Entry without the Python-level __new__ of a NamedTuple
_c_entries = ctree.entries
_NAME = operator.itemgetter(0)
_KIND = operator.itemgetter(1)
_MODE = operator.itemgetter(2)
_REF = operator.itemgetter(5)
_KEYED = frozenset({FILE, DIR})
KEY_LEN = 32  # a SHA-256 key
MAX_NAME = 255  # NAME_MAX: no file system we restore to holds a longer name
MAX_LINK = 4095  # PATH_MAX - 1: symlink() refuses a longer target
MODE_BITS = 0o7777

# Characters that would act on a terminal rather than be shown: C0, DEL, C1, and the Unicode
# marks that reorder or hide text (bidi overrides and isolates, zero-width joiners).
_CONTROL = {c: f"\\x{c:02x}" for c in (*range(0x20), 0x7F, *range(0x80, 0xA0))}
_CONTROL.update(
    {
        c: f"\\u{c:04x}"
        for c in (*range(0x200B, 0x2010), *range(0x202A, 0x202F), *range(0x2066, 0x206A))
    }
)
_CONTROL.update({ord("\n"): "\\n", ord("\t"): "\\t", ord("\r"): "\\r"})


def show(path: bytes) -> str:
    """*path* (a relative or absolute path) as the one word a command's PATH argument reads
    as these bytes: ``word(path)``, with ``./`` before a name starting with ``-``, which
    pasted bare is an option (a file ``--delete`` pasted into ``restore 1 --delete`` ran a
    whole-tree restore deleting unsaved files, RED39 C1), as output.path_args prints it. So
    a name pasted from any listing reaches its file."""
    if path.startswith(b"-"):
        path = b"./" + path
    return word(path)


def word(data: bytes) -> str:
    """*data* (a name, a link's target) as one shell word that gives its bytes back: as it
    is when it is one already (letters, digits and ``@%+=:,./_-``; printable letters outside
    ASCII too, where the output's encoding carries them), else quoted as a printed restore
    command quotes it (words.shell_quote: ``'a b'``, ``"$(printf 'bad\\377')"``). So no two
    names print alike (a byte 0xff and the four characters ``\\xff`` did, RED34), and no name
    can drive the terminal it is printed on."""
    if not data.translate(None, _WORD):  # most paths: nothing a shell reads
        return data.decode("ascii")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return words.shell_quote(data)
    if all(_plain(ch) for ch in text) and not words.unencodable(text):
        return text
    return words.shell_quote(data)


# the bytes of a shell word that need no quote: shlex.quote's set (a '-' first: see show)
_WORD = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789@%+=:,./_-"


def _plain(ch: str) -> bool:
    """Whether *ch* stands in a shell word as it is, and shows as text on a terminal."""
    if ch.isascii():
        return ord(ch) in _WORD
    return ch.isprintable()  # (not a control, a format mark such as bidi, nor a blank)


def escaped(data: bytes) -> str:
    """*data* (a message, a command: text, not a name to paste) for people: undecodable bytes
    and control characters escaped, so that it can never drive the terminal it is printed on."""
    text = data.decode("utf-8", "backslashreplace")
    if text.isascii() and text.isprintable():  # most texts: no C0 or DEL, nothing else to map
        return text
    return text.translate(_CONTROL)


class UnsafeTree(UserError):
    """A tree that no honest snapshot holds: refused before anything is written."""

    def __init__(self, path: bytes, problem: str) -> None:
        self.path = path
        self.problem = problem
        super().__init__(
            f"refusing the snapshot: {show(path) or '.'}: {problem}; no snapshot git-snapshot "
            "writes holds this (the store is damaged or was tampered with); "
            "run git snapshot verify"
        )


def name_problem(name: bytes) -> str | None:
    if not name:
        return "empty name"
    if name in (b".", b".."):
        return f"unsafe name {show(name)!r}"
    if b"/" in name or b"\0" in name:
        return "unsafe name (holds '/' or NUL)"
    if len(name) > MAX_NAME:
        return f"name of {len(name)} bytes (at most {MAX_NAME})"
    return None


def entry_problem(e: Entry) -> str | None:
    """What is wrong with one entry on its own (None: nothing)."""
    problem = name_problem(e.name)
    if problem:
        return problem
    if e.mode & ~MODE_BITS:
        return f"mode {e.mode:#o} has bits beyond {MODE_BITS:#o}"
    if e.kind in (FILE, DIR):
        if len(e.ref) != KEY_LEN:
            what = "file" if e.kind == FILE else "directory"
            return f"{what} reference of {len(e.ref)} bytes (a key has {KEY_LEN})"
        return None
    if e.kind == SYMLINK:
        return link_problem(e)
    return f"unknown entry type {e.kind}"


def link_problem(e: Entry) -> str | None:
    if not e.ref:
        return "empty symlink target"
    if b"\0" in e.ref:
        return "symlink target holds a NUL byte"
    if len(e.ref) > MAX_LINK:
        return f"symlink target of {len(e.ref)} bytes (at most {MAX_LINK})"
    if e.size != len(e.ref):
        return f"symlink size {e.size} does not match its target's {len(e.ref)} bytes"
    return None


def problems(entries: list[Entry]) -> list[str | None]:
    """What is wrong with each entry of one tree (None: nothing), its order included: names
    are sorted and unique."""
    out: list[str | None] = []
    previous: bytes | None = None
    for e in entries:
        problem = entry_problem(e)
        if problem is None and previous is not None and e.name <= previous:
            problem = "names out of order or repeated"
        out.append(problem)
        previous = e.name
    return out


def tree_problems(entries: list[Entry]) -> list[tuple[bytes, str]]:
    """Every (name, problem) of one tree."""
    return [(e.name, p) for e, p in zip(entries, problems(entries)) if p]


def read_tree(
    store: Store, key: bytes, rel: bytes = b"", loc: Location | None = None
) -> list[Entry]:
    """The entries of a tree, checked against its key (CorruptObject) and for what no honest
    snapshot holds (UnsafeTree). *rel*: the tree's path with a trailing '/', for messages.
    *loc*: where it lies, when the caller looked that up (None: the index is asked)."""
    return check_tree(store.read_object(key, loc), rel)


def check_tree(data: bytes, rel: bytes = b"") -> list[Entry]:
    """The entries of a tree's bytes (read and checked against its key by the caller),
    checked for what no honest snapshot holds (UnsafeTree, or CorruptObject when they are
    no tree at all). *rel*: the tree's path with a trailing '/', for messages."""
    entries = checked(data)
    if entries is not None:
        return entries
    entries = decode_tree(data)
    problems = tree_problems(entries)
    if problems:
        name, problem = problems[0]
        raise UnsafeTree(rel + name, problem)
    return entries


def checked(data: bytes) -> list[Entry] | None:
    """The entries of a tree's bytes when they are well formed and tree_problems finds nothing
    in them, checked for the whole tree at once (C loops over the names, kinds, modes and
    references instead of a call per entry: most of a restore's planning); None otherwise,
    and the caller reads them the slow way, which names the problem."""
    if not data.startswith(TREE_MAGIC):
        return None
    try:
        out, pos = _entries(data)
    except struct.error:
        return None
    if pos != len(data):
        return None  # truncated
    if not out:
        return out
    names = list(map(_NAME, out))
    if not all(map(operator.lt, names, names[1:])):  # sorted and unique
        return None
    if b"." in names or b".." in names:
        return None
    joined = b"\0".join(names)
    if b"/" in joined or joined.count(b"\0") != len(names) - 1:  # a name holds '/' or NUL
        return None
    lengths = list(map(len, names))
    if min(lengths) == 0 or max(lengths) > MAX_NAME:
        return None
    if max(map(_MODE, out)) > MODE_BITS:  # a mode is unsigned: only bits beyond make it more
        return None
    if set(map(_KIND, out)) - _KEYED:  # a link (rare) or unknown
        if any(entry_problem(e) for e in out):
            return None
    elif set(map(len, map(_REF, out))) != {KEY_LEN}:
        return None
    return out


def unchecked(data: bytes) -> list[Entry]:
    """The entries of a tree's bytes that ``checked`` accepted before (immutable bytes the
    caller kept: a restore's plan), made again without checking them again (half the CPU)."""
    return _entries(data)[0]


def _entries(data: bytes) -> tuple[list[Entry], int]:
    """The entries of a tree's bytes (after TREE_MAGIC), and where the last one ends: past
    the end when the bytes are cut short (struct.error when cut within a header). In C
    (_ctree.entries, ~5x faster: most of the CPU of checking a restore's trees before it
    writes) unless only the Python below, its specification, is there."""
    if _c_entries is not None:
        got = _c_entries(data, Entry)
        if got is None:
            raise struct.error("a tree entry's head is cut short")
        return got
    return _py_entries(data)


def _py_entries(data: bytes) -> tuple[list[Entry], int]:
    out: list[Entry] = []
    add = out.append
    unpack = HEAD.unpack_from
    head = HEAD.size
    pos = len(TREE_MAGIC)
    end = len(data)
    while pos < end:
        kind, label, flags, mode, mtime_ns, size, nlen, rlen = unpack(data, pos)
        at = pos + head
        ref_at = at + nlen
        pos = ref_at + rlen
        add(
            _new(
                Entry,
                (data[at:ref_at], kind, mode, mtime_ns, size, data[ref_at:pos], label, flags),
            )
        )
    return out, pos


OnDamage = Callable[[bytes, CorruptObject], None]


def walk(
    store: Store,
    tree: bytes,
    prefix: bytes = b"",
    damaged: OnDamage | None = None,
    skip: Callable[[bytes], bool] | None = None,
    seen: Callable[[bytes, list[Entry]], None] | None = None,
    locate: Callable[[bytes], Location | None] | None = None,
) -> Iterator[tuple[bytes, Entry]]:
    """Every entry below *tree*, checked, depth first, parents before children; without a
    call stack, so depth is no limit. With *damaged*, a directory whose listing cannot be
    read is passed to it (its path, '' for *tree* itself) and skipped, instead of raised.
    Paths for which *skip* is true are left out with everything below them. *seen* is given
    each tree's key and checked entries (a caller that reads them again may keep them).
    *locate*: where a tree lies, when the caller knows (None: the index is asked)."""
    stack: list[Iterator[Entry]] = []
    paths: list[bytes] = []

    def enter(key: bytes, path: bytes, rel: bytes) -> None:
        try:
            entries = read_tree(store, key, rel, locate(key) if locate is not None else None)
        except CorruptObject as exc:  # not UnsafeTree: a crafted tree is never passed over
            if damaged is None:
                raise
            damaged(path, exc)
            return
        if seen is not None:
            seen(key, entries)
        stack.append(iter(entries))
        paths.append(rel)

    enter(tree, prefix.rstrip(b"/"), prefix)
    while stack:
        e = next(stack[-1], None)
        if e is None:
            stack.pop()
            paths.pop()
            continue
        path = paths[-1] + e.name
        if skip is not None and skip(path):
            continue
        yield path, e
        if e.kind == DIR:
            enter(e.ref, path, path + b"/")


def blob_problem(store: Store, e: Entry) -> str | None:
    """What the index shows wrong with a file's content without reading it."""
    return located_problem(e, store.index.locate(e.ref))


def located_problem(e: Entry, loc: Location | None) -> str | None:
    """blob_problem for a location already looked up (None: the index lacks it)."""
    return size_problem(e, None if loc is None else loc.size)


def size_problem(e: Entry, size: int | None) -> str | None:
    """blob_problem for the stored size the index gives (None: the index lacks it)."""
    if size is None:
        return "content missing from the index"
    if size != e.size:
        return f"the snapshot records {e.size} bytes but the stored content has {size}"
    return None


def read_blob(store: Store, e: Entry, loc: Location | None = None, known: bool = False) -> bytes:
    """A file's whole content, checked against its key and recorded size; with *known*,
    *loc* is where the index says it lies (None: nowhere), looked up by the caller."""
    if not known:
        loc = store.index.locate(e.ref)
    problem = located_problem(e, loc)
    if problem:
        raise CorruptObject(problem)
    data = store.read_object(e.ref, loc)
    if len(data) != e.size:
        raise CorruptObject(f"content of {len(data)} bytes, the snapshot records {e.size}")
    return data


def stream_blob(store: Store, e: Entry) -> Iterator[bytes]:
    """A file's content in chunks; CorruptObject (after the last chunk at the latest) when it
    does not match its key or recorded size: callers write to a temp file first."""
    problem = blob_problem(store, e)
    if problem:
        raise CorruptObject(problem)
    n = 0
    for chunk in store.stream_blob(e.ref):
        n += len(chunk)
        if n > e.size:
            break
        yield chunk
    if n != e.size:
        raise CorruptObject(f"content is not the {e.size} bytes the snapshot records")
