"""``snapshot.exclude``'s patterns, matched as git matches the lines of a .gitignore.

The common patterns (``/.venv/``, ``node_modules/``, ``*.log``, ``build``, ``a/b/``: a
literal, or globs of ``*`` and ``?`` within a segment, with or without a leading or trailing
``/``) are matched here, on the path's bytes as git's wildmatch does, with no import:
pathspec's imports (``re``, ``typing``, ``dataclasses``...) cost every hook of a repository
with ``snapshot.exclude /.venv/`` (the README's) ~55 ms of CPU, more than the rest of an
unchanged hook (review RK42; fixM's note, session 42). A set holding any other pattern
(``**``, ``[...]``, ``\\`` escapes, ``!``, a trailing CR or LF, an empty segment) goes whole to
pathspec's GitIgnoreSpec, as before: the two are never mixed. Where pathspec is not git, this
is git: ``?`` matches one byte (``?.txt`` never matches ``é.txt``), and a name at any depth
is found below a folder whose name holds a newline.

Without ``!``, a path is excluded when a pattern matches it or a folder above it (git never
enters an excluded folder). A pattern with a ``/`` before its end is anchored at the top and
matches segment by segment (``*`` and ``?`` never cross a ``/``); one without matches any
segment's name; a trailing ``/`` matches folders only (a folder above a path is one).
"""

from __future__ import annotations

from git_snapshot.errors import UserError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    Exclude = Callable[[bytes, bool], bool]
    Segment = Callable[[bytes], bool]

_ANY = 0x3F  # '?'
_UNSURE = ("[", "\\", "!", "**")  # what only pathspec decides
# what a .gitignore's line end takes (CRLF) and pathspec strips with it, as the old code did;
# pathspec strips every trailing blank (str.rstrip), so 'x<TAB>' must never go there alone:
# it would exclude 'x', which git keeps (review RM42)
_LINE_END = ("\r", "\n")


def simple(pattern: str) -> bool:
    """Whether :func:`matcher` decides *pattern* (a non-comment, non-blank line) as git does."""
    if any(c in pattern for c in _UNSURE) or pattern.endswith(_LINE_END):
        return False
    pattern = pattern.rstrip(" ")  # git trims trailing spaces only: 'x<TAB>' is a literal
    body = pattern[1:] if pattern.startswith("/") else pattern
    body = body[:-1] if body.endswith("/") else body
    return bool(body) and "" not in body.split("/")


def matcher(patterns: list[str]) -> Exclude:
    """The exclude function of *patterns*, every one :func:`simple`: (path relative to the
    top, is a folder) -> excluded. A folder's answer is kept for the paths below it (the walk
    asks for a folder's entries one after another): each path then costs its own name."""
    # each kind: what matches a file, what matches a folder (also what matches both)
    exact: tuple[list[bytes], list[bytes]] = ([], [])  # anchored literals: '/dist', 'a/b/'
    names: tuple[set[bytes], set[bytes]] = (set(), set())  # a literal name at any depth
    globs: list[tuple[Segment, bool]] = []  # a glob of a name at any depth, folders only?
    anchored: dict[int, list[tuple[tuple[Segment, ...], bool]]] = {}  # by count of names
    for pattern in patterns:
        raw = pattern.rstrip(" ").encode("utf-8", "surrogateescape")  # (as simple() reads it)
        dir_only = raw.endswith(b"/")
        body = raw[:-1] if dir_only else raw
        wild = b"*" in body or b"?" in body
        if b"/" in body:
            body = body.removeprefix(b"/")
            if wild:
                segs = tuple(_segment(s) for s in body.split(b"/"))
                anchored.setdefault(len(segs), []).append((segs, dir_only))
            else:
                exact[1].append(body)
                if not dir_only:
                    exact[0].append(body)
        elif wild:
            globs.append((_segment(body), dir_only))
        else:
            names[1].add(body)
            if not dir_only:
                names[0].add(body)
    exact_sets = (frozenset(exact[0]), frozenset(exact[1]))
    name_sets = (frozenset(names[0]), frozenset(names[1]))
    file_globs = tuple(m for m, dir_only in globs if not dir_only)
    dir_globs = tuple(m for m, _ in globs)
    known: dict[bytes, bool] = {}  # folder -> excluded, itself or by a folder above it

    def itself(rel: bytes, name: bytes, is_dir: bool) -> bool:
        """Whether a pattern matches *rel* (its last name *name*) itself."""
        if rel in exact_sets[is_dir] or name in name_sets[is_dir]:
            return True
        for match in dir_globs if is_dir else file_globs:
            if match(name):
                return True
        if anchored:
            for segs, dir_only in anchored.get(rel.count(b"/") + 1, ()):
                if is_dir or not dir_only:
                    for seg, got in zip(segs, rel.split(b"/")):
                        if not seg(got):
                            break
                    else:
                        return True
        return False

    def exclude(rel: bytes, is_dir: bool) -> bool:
        folder, _, name = rel.rpartition(b"/")
        if folder:
            above = known.get(folder)
            if above is None:
                if len(known) >= _KNOWN_MAX:
                    known.clear()
                above = known[folder] = exclude(folder, True)
            if above:
                return True
        return itself(rel, name, is_dir)

    return exclude


_KNOWN_MAX = 1 << 16  # folders whose answer a matcher keeps (a few MB at most)


def _segment(glob: bytes) -> Segment:
    """A function telling whether a name (one segment, never empty) matches *glob*, whose
    ``*`` matches any bytes and ``?`` any one byte (git's wildmatch within a segment)."""
    parts = glob.split(b"*")
    if b"?" not in glob:
        if len(parts) == 1:
            return glob.__eq__
        if len(parts) == 2:
            head, tail = parts
            if not head:
                return lambda name: name.endswith(tail)
            if not tail:
                return lambda name: name.startswith(head)
            least = len(head) + len(tail)
            return lambda name: len(name) >= least and name.startswith(head) and name.endswith(tail)
        if len(parts) == 3 and not parts[0] and not parts[2]:
            middle = parts[1]
            return lambda name: middle in name
    least = sum(len(p) for p in parts)
    chunked = [_chunks(p) for p in parts]
    if len(parts) == 1:
        only = chunked[0]
        return lambda name: len(name) == least and _at(only, name, 0)
    first, last = chunked[0], chunked[-1]
    first_n, last_n = len(parts[0]), len(parts[-1])
    inner = list(zip(parts[1:-1], chunked[1:-1]))

    def match(name: bytes) -> bool:
        if len(name) < least:
            return False
        end = len(name) - last_n
        if not (_at(first, name, 0) and _at(last, name, end)):
            return False
        i = first_n
        for part, chunks in inner:  # each at its leftmost place: then the rest has most room
            i = _find(part, chunks, name, i, end)
            if i < 0:
                return False
            i += len(part)
        return True

    return match


def _chunks(part: bytes) -> list[tuple[int, bytes]]:
    """*part*'s literal runs between its ``?``s, each with its offset in *part*."""
    out = []
    at = 0
    for run in part.split(b"?"):
        if run:
            out.append((at, run))
        at += len(run) + 1
    return out


def _at(chunks: list[tuple[int, bytes]], name: bytes, i: int) -> bool:
    """Whether the part of *chunks* matches *name* at *i* (room checked by the caller)."""
    return all(name.startswith(run, i + at) for at, run in chunks)


def _find(part: bytes, chunks: list[tuple[int, bytes]], name: bytes, start: int, end: int) -> int:
    """The first place from *start* where *part* matches and ends by *end*, or -1."""
    if _ANY not in part:
        return name.find(part, start, end)
    for i in range(start, end - len(part) + 1):
        if _at(chunks, name, i):
            return i
    return -1


def pathspec_matcher(lines: list[str]) -> Exclude:
    """pathspec's GitIgnoreSpec of *lines* (any pattern :func:`simple` refuses), given the
    patterns and the paths a character a byte (:func:`_bytewise`), as git's wildmatch reads
    them: on text, ``?`` matched a whole ``é`` (``?.txt`` excluded ``é.txt``, which git keeps)
    and pathspec's ``str.rstrip`` took a trailing tab or no-break space off a pattern
    (``foo<TAB>`` excluded ``foo``), files silently left out (review RM42)."""
    import re  # these three: only for a pattern set that needs them (off the hook path)
    import warnings

    import pathspec

    patterns = [_kept_blanks(_bytewise(p.encode("utf-8", "surrogateescape"))) for p in lines]
    try:
        with warnings.catch_warnings():  # Python's re warns of '[[' in a class; git means '['
            warnings.simplefilter("ignore", FutureWarning)
            spec = pathspec.GitIgnoreSpec.from_lines(patterns)
    except (re.error, ValueError) as exc:
        raise UserError(
            f"bad snapshot.exclude pattern in {lines!r} ({exc}): fix it in git config"
        ) from None

    def exclude(rel: bytes, is_dir: bool) -> bool:
        name = _bytewise(rel)
        return bool(spec.match_file(name + "/" if is_dir else name))

    return exclude


def _bytewise(raw: bytes) -> str:
    """*raw* a character a byte: ASCII as itself, any other byte a lone surrogate (one
    character, never a blank, never part of a UTF-8 character)."""
    return raw.decode("ascii", "surrogateescape")


def _kept_blanks(pattern: str) -> str:
    """*pattern* with git's trimming done (trailing spaces, unless escaped) and any other
    trailing blank but a line end (a tab, a vertical tab...) written as a one-character
    class, which pathspec's ``rstrip`` leaves: git matches it as a literal."""
    if not pattern.endswith("\\ "):
        pattern = pattern.rstrip(" ")
    end = len(pattern)
    while end and pattern[end - 1].isspace() and pattern[end - 1] not in " \r\n":
        end -= 1
    return pattern[:end] + "".join(f"[{c}]" for c in pattern[end:])
