"""Printing for people: sizes, ages, aligned tables; progress, the pager and colour, each only
where a person watches (a terminal), as git decides it.

Nothing here imports more than the standard library at module level: this module is on the
hook path, and tqdm (the progress bar) is imported only when stderr is a terminal.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Mapping
from collections.abc import Sequence

from git_snapshot import gitrepo
from git_snapshot.words import shell_quote as shell_quote  # (here for its callers)

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (the hook path)
if TYPE_CHECKING:
    import subprocess
    from collections.abc import Callable
    from typing import IO
    from typing import Any

    from git_snapshot.store import Snapshot


def display(path: bytes) -> str:
    """A path printed as text: the one shell word that gives its bytes back (validate.show:
    ``./-x`` for ``-x``), so that a name pasted from any line reaches its file and no two
    names print alike; never an exception, never a terminal's escape sequence. (--json gives
    names as they are: json_text.)"""
    from git_snapshot.store import validate  # the store's checks: not on every hook's path

    return validate.show(path)


def target(ref: bytes) -> str:
    """A link's target printed as display() prints a path, but as it is after a ``-``: data
    shown after ``->``, not a PATH to paste (``./-x`` would be other bytes)."""
    from git_snapshot.store import validate

    return validate.word(ref)


def message(text: str) -> str:
    """*text* that names no file (a snapshot's message, a git command) for people, as it is
    but for undecodable bytes and control characters, shown as escapes: not a shell word.
    Never an exception: a lone surrogate no name's bytes give (a loss log's JSON
    ``"\\ud800"``, which fsencode refuses) is shown as its escape too."""
    from git_snapshot.store import validate

    try:
        data = os.fsencode(text)
    except UnicodeEncodeError:
        data = text.encode("utf-8", "backslashreplace")
    return validate.escaped(data)


BRIEF = 120  # characters of a path named in a one-line message, at most


def brief(path: bytes) -> str:
    """*path* as display() shows it, its middle cut out ("...") past BRIEF characters: a
    tree nested past PATH_MAX (4096 bytes) is named in a line a terminal can still show. Cut
    between characters (a byte no encoding takes is one), never inside an escape."""
    shown = display(path)
    if len(shown) <= BRIEF:
        return shown
    text = os.fsdecode(path)
    head, tail = BRIEF // 4, BRIEF // 2
    end = os.fsencode(text[-tail:])  # no path's start: no ./ before a '-' (target's word)
    return display(os.fsencode(text[:head])) + "..." + target(end)


def one_line(text: str) -> str:
    """*text* (a message that may hold what the user typed: a path, a label) on one line with
    no control or format character: each shown as an escape, as :func:`display` shows a name."""
    if text.isascii() and text.isprintable():
        return text
    from git_snapshot.store import validate

    return text.translate(validate._CONTROL)


def print_damaged(
    damaged: list[tuple[bytes, str]], verb: str, shown: int = 20, advice: str | None = None
) -> None:
    """Each damaged path on a line of its own (the first *shown* of them), then the last
    line, on stderr: what was not *verb* and what to do about it (*advice*, or the local
    store's)."""
    from git_snapshot.store.restorer import ADVICE  # the restore code: off the hook's imports

    for path, why in damaged[:shown]:
        print(paint(f"DAMAGED {display(path) or '.'}: {why}", "red"))
    if len(damaged) > shown:
        print(f"... and {len(damaged) - shown} more damaged path(s)")
    err(
        f"{len(damaged)} damaged path(s) could not be {verb} (listed above), everything "
        f"intact was; {advice or ADVICE}"
    )


def path_args(paths: list[bytes]) -> str:
    """*paths* as a command's PATH words (shell_quote), each starting with ``-`` as ``./-x``:
    a path, not an option. Never after ``--``: argparse drops every ``--`` past the first, so
    a file named ``--`` vanished from ``restore 1 -- --``, which then restored the whole
    snapshot (RED30)."""
    return " ".join(shell_quote(path_word(p)) for p in paths)


def option(name: str, value: str) -> str:
    """``--name=VALUE`` as a printed command gives it (VALUE shell_quote'd): joined by ``=``,
    a VALUE starting with ``-`` (a repository at ``/x/-proj`` is labelled ``-proj``) is the
    option's value, not another option."""
    return f"{name}={shell_quote(os.fsencode(value))}"


def path_word(path: bytes) -> bytes:
    """*path* (relative, or absolute) as a command reads it as a path: ``./-x`` for ``-x``."""
    return b"./" + path if path.startswith(b"-") else path


def snapshot_warnings(s: Snapshot) -> list[str]:
    """Lines that must not go unseen: files that could not be saved as they were."""
    out = []
    skipped = s.meta.get("skipped_paths", [])
    unreadable = [(p, why) for p, why in skipped if why.startswith("unreadable")]
    if unreadable:
        path, why = unreadable[0]
        out.append(
            f"warning: {len(unreadable)} path(s) could not be read and are NOT in snapshot "
            f"{s.id}, e.g. {brief(os.fsencode(path))} ({why.removeprefix('unreadable: ')})"
        )
    replaced: list[str] = []
    if skipped:  # the walker's words (imported only then: a watched hook walks nothing)
        from git_snapshot.store.walker import MOVED
        from git_snapshot.store.walker import REPLACED

        replaced = [p for p, why in skipped if why in (REPLACED, MOVED)]
    if replaced:  # (a folder swapped while the walk was in it: RED25, RED28)
        out.append(
            f"warning: {len(replaced)} folder(s) were replaced or moved while read and are NOT in "
            f"snapshot {s.id}, e.g. {brief(os.fsencode(replaced[0]))}; the next snapshot "
            f"takes what is there now"
        )
    changed = s.meta.get("changed_while_read", [])
    if changed:
        out.append(
            f"warning: {len(changed)} file(s) kept changing while read; snapshot {s.id} "
            f"holds what was read last, which may mix versions (a torn read), e.g. "
            f"{brief(os.fsencode(changed[0]))}"
        )
    return out


def setid_line(left: str, n: int, names: str) -> str:
    """restore's and export's line for the set-id bits they do not give *n* paths (*left*:
    "left" or "would leave"; *names*: the first of them)."""
    return (
        f"{left} off the set-uid/set-gid bits of {n} path(s) (a snapshot is untrusted input; "
        f"chmod u+s / g+s puts them back): {names}"
    )


def files(n: int) -> str:
    """n files, or "1 file"."""
    return f"{n} file" if n == 1 else f"{n} files"


def size(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")


def age(created: float, now: float | None = None) -> str:
    secs = max(0, int((time.time() if now is None else now) - created))
    for unit, length in (("d", 86400), ("h", 3600), ("m", 60)):
        if secs >= length:
            return f"{secs // length}{unit} ago"
    return f"{secs}s ago"


def iso(ts: float) -> str:
    from datetime import datetime  # not on the hook path (a loss report's JSON only)

    return datetime.fromtimestamp(ts).astimezone().isoformat(timespec="seconds")


def table(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    right: Sequence[int] = (),
    colors: Mapping[int, str] | None = None,
) -> str:
    """Columns aligned; indexes in *right* are right-aligned (numbers); columns in *colors*
    painted that colour (after aligning: escapes take no room on screen)."""
    # a cell may hold a name (a repository's path, a label): one line, no escape sequence
    rows = [[c if c.isascii() and c.isprintable() else one_line(c) for c in r] for r in rows]
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(c)) for w, c in zip(widths, row)]
    colors = colors or {}

    def line(cells: Sequence[str], head: bool = False) -> str:
        out = []
        for i, (c, w) in enumerate(zip(cells, widths)):
            pad = " " * (w - len(c))
            shown = paint(c, colors[i]) if i in colors and not head else c
            out.append(pad + shown if i in right else shown + pad)
        return "  ".join(out).rstrip()

    return "\n".join([line(headers, head=True), *(line(r) for r in rows)])


def print_json(data: Any) -> None:
    # one write: json.dump hands the stream every token (2 million write calls for the
    # 16 MB of a `diff --json` of 38k files: 7.7 s, against 1 s for the text itself)
    sys.stdout.write(json_text(data) + "\n")


def json_text(data: Any) -> str:
    """*data* as every --json output writes it: indented, UTF-8 text, a name's byte that is not
    UTF-8 as ``\\udcXX`` (_escape_surrogates)."""
    import json  # here: json imports re (and an unchanged hook prints no JSON)

    text = json.dumps(data, indent=2, ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a name from bytes that are not UTF-8
        text = _escape_surrogates(text)
    return text


def json_str(name: bytes) -> str:
    """*name* as a JSON string literal, as print_json writes it: os.fsdecode's text, with a
    byte that is not UTF-8 as ``\\udcXX`` (_escape_surrogates)."""
    global _encode_basestring
    if _encode_basestring is None:  # json.encoder imports re: not on a hook's path
        from json.encoder import encode_basestring  # (C, where the interpreter has it)

        _encode_basestring = encode_basestring
    text: str = _encode_basestring(os.fsdecode(name))
    return text if text.isascii() else _escape_surrogates(text)


_encode_basestring: Callable[[str], str] | None = None


def _escape_surrogates(text: str) -> str:
    """JSON *text* with each lone surrogate (a byte that is not UTF-8 in a name os.fsdecode
    gave, 0x80-0xff as U+DC80-U+DCFF) written as JSON's escape ``\\udcXX``: UTF-8 text that a
    strict reader takes, and a name told apart from one that holds ``\\xff`` literally, which
    the escaped display the first version printed was not (RED30). Python's ``json.loads`` then
    ``os.fsencode`` give the name's bytes back."""
    return "".join(f"\\u{ord(ch):04x}" if 0xD800 <= ord(ch) <= 0xDFFF else ch for ch in text)


def err(message: str) -> None:
    print(f"git-snapshot: {one_line(message)}", file=sys.stderr)


class Progress:
    """A progress bar on stderr, only when stderr is a terminal (nothing in a pipe or a log):
    the count, its rate, and the total and ETA when one is known (tqdm, imported only then).

    Feed it through the callback that fits the caller: :meth:`count` (done so far),
    :meth:`count_of` (done, total) or :meth:`files_bytes` (files, bytes, as the archiver
    reports). *total* may be set before or while it runs; an expected total that turns out
    too small (a snapshot's previous file count) grows with the count."""

    def __init__(self, what: str, unit: str = "files", total: int | None = None) -> None:
        self.what = what
        self.unit = unit
        self.total = total
        self.on = is_tty(sys.stderr)
        self._bar: Any = None
        self._last = 0.0
        self._start = time.monotonic()

    def count(self, done: int) -> None:
        self._show(done)

    def count_of(self, done: int, total: int) -> None:
        self.total = total
        self._show(done)

    def files_bytes(self, files: int, nbytes: int) -> None:
        # called for every folder a snapshot walks: the text only when the bar is redrawn
        if self.on and (self._bar is None or time.monotonic() - self._last >= 0.1):
            rate = nbytes / max(time.monotonic() - self._start, 1e-3)
            self._show(files, f"{size(nbytes)}, {size(rate)}/s")

    def _show(self, done: int, extra: str = "") -> None:
        if not self.on:
            return
        now = time.monotonic()
        if self._bar is not None and now - self._last < 0.1:
            return  # cheap enough to be called for every file
        self._last = now
        total = self.total if self.total is None else max(self.total, done)
        if self._bar is None:
            self._open(done, total, extra)
            return
        if total != self._bar.total:
            self._bar.total = total
        if extra:
            self._bar.set_postfix_str(extra, refresh=False)
        self._bar.update(done - self._bar.n)

    def _open(self, done: int, total: int | None, extra: str) -> None:
        from tqdm import tqdm  # only when a terminal watches: never on the hook path

        cols, rows = _size(sys.stderr)

        self._bar = tqdm(
            desc=self.what,
            initial=done,
            total=total,
            postfix=extra or None,  # the first state shown is complete
            unit=f" {self.unit}",
            file=sys.stderr,
            leave=False,  # the command's own summary line replaces it
            # follow the terminal's size; one that says 0x0 (a bare pty) gets 80x24: tqdm
            # would show nothing at all
            dynamic_ncols=bool(cols),
            ncols=None if cols else 80,
            nrows=None if rows else 24,
            mininterval=0.1,
        )

    def done(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def _size(stream: IO[str]) -> tuple[int, int]:
    try:
        return tuple(os.get_terminal_size(stream.fileno()))  # type: ignore[return-value]
    except (AttributeError, OSError, ValueError):
        return 0, 0


def is_tty(stream: IO[str]) -> bool:
    try:
        return os.isatty(stream.fileno())
    except (AttributeError, OSError, ValueError):  # replaced by a test, or closed
        return False


# -------------------------------------------------------------------------------- colour

_SGR = {"red": "31", "green": "32", "yellow": "33", "cyan": "36", "bold": "1"}
WHEN = ("auto", "always", "never")


class _Look:
    """What the command line chose (cli calls :func:`setup`) and what was decided from it."""

    cwd = "."
    color = "auto"  # --color[=WHEN] / --no-color
    paging = False  # our pager holds stdout
    decided: dict[int, bool] = {}  # noqa: RUF012 - one per process, keyed by fd


def setup(*, cwd: str = ".", color: str = "auto") -> None:
    """The choices of the command line: where git's config is read, and --color's WHEN; and
    the standard output's escaping (:func:`escape_unencodable`)."""
    if color not in WHEN:
        raise ValueError(color)
    _Look.cwd, _Look.color = cwd, color
    _Look.decided = {}
    escape_unencodable(sys.stdout)


# ------------------------------------------------------------------ what the locale cannot take

ESCAPE = "git-snapshot-escape"  # the codecs error handler of escape_unencodable


def escape_unencodable(stream: IO[str]) -> None:
    """Every command's output, table, line or JSON, goes through *stream*: a character its
    encoding cannot carry (a name in Japanese, stdout in a Latin-1 or ASCII locale) is
    written as an escape (:func:`_escape`) instead of failing the command (RED32: show, diff,
    find, losses and restore ended in an internal error, restore after writing the files).
    A stream that already has a handler (surrogateescape, in the C locale) keeps it."""
    if getattr(stream, "errors", None) != "strict" or not hasattr(stream, "reconfigure"):
        return
    import codecs  # (loaded at start-up already: the interpreter's own encodings)

    try:
        codecs.lookup_error(ESCAPE)
    except LookupError:
        codecs.register_error(ESCAPE, _escape)
    stream.reconfigure(errors=ESCAPE)


def _escape(exc: UnicodeError) -> tuple[str, int]:
    """An unencodable character as ``\\uXXXX`` (UTF-16 units, JSON's own escape: inside a
    --json string it names the same character, outside one it reads as Python's
    backslashreplace does), a byte that is not UTF-8 (a surrogate of os.fsdecode) as
    ``\\xNN``, as :func:`display` shows it."""
    if not isinstance(exc, UnicodeEncodeError):
        raise exc
    out = []
    for ch in exc.object[exc.start : exc.end]:
        n = ord(ch)
        if 0xDC80 <= n <= 0xDCFF:
            out.append(f"\\x{n - 0xDC00:02x}")
        elif n > 0xFFFF:
            n -= 0x10000
            out.append(f"\\u{0xD800 + (n >> 10):04x}\\u{0xDC00 + (n & 0x3FF):04x}")
        else:
            out.append(f"\\u{n:04x}")
    return "".join(out), exc.end


def use_color(stream: IO[str] | None = None) -> bool:
    """Whether to colour what goes to *stream* (stdout by default), as git would decide it:
    --color=always/never first; else color.snapshot, then color.ui (git's default: auto,
    colour on a terminal, TERM=dumb excepted) through ``git config --get-colorbool``. A
    non-empty NO_COLOR counts as not a terminal (https://no-color.org: an explicit
    color.ui=always still wins, as a setting does over it). Asked of git once per stream,
    only when something would be coloured: commands that colour nothing never ask."""
    stream = sys.stdout if stream is None else stream
    if _Look.color != "auto":
        return _Look.color == "always"
    try:
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError):
        return False
    if fd not in _Look.decided:
        watched = is_tty(stream) or (fd == 1 and pager_in_use())
        if os.environ.get("NO_COLOR"):
            watched = False
        _Look.decided[fd] = gitrepo.colorbool(_Look.cwd, "color.snapshot", watched)
    return _Look.decided[fd]


def paint(text: str, color: str, stream: IO[str] | None = None) -> str:
    """*text* in *color* (a key of _SGR) when :func:`use_color` says so for *stream*."""
    if not text or not use_color(stream):
        return text
    return f"\033[{_SGR[color]}m{text}\033[m"


def color_patch(lines: Iterable[str]) -> Iterator[str]:
    """Lines of unified diffs coloured as git colours them: headers bold, hunk headers cyan,
    added lines green, removed lines red (``--- x`` is a header only before the first hunk:
    a removed line may read the same)."""
    header = False
    for line in lines:
        body, nl, rest = line.partition("\n")
        if body.startswith("diff "):
            header = True
        if body.startswith("@@"):
            header = False
            color = "cyan"
        elif header:
            color = "bold"
        elif body.startswith("+"):
            color = "green"
        elif body.startswith("-"):
            color = "red"
        else:
            yield line
            continue
        yield paint(body, color) + nl + rest


# --------------------------------------------------------------------------------- pager


def pager_in_use() -> bool:
    """Whether stdout goes to a pager: ours, or git's (``git -p snapshot``, pager.snapshot)."""
    return _Look.paging or os.environ.get("GIT_PAGER_IN_USE", "").lower() in ("true", "1")


@contextlib.contextmanager
def paged(wanted: bool = True) -> Iterator[None]:
    """Run the body with stdout (and stderr, if a terminal) going to git's pager, when
    *wanted*, stdout is a terminal and git would page (see :func:`gitrepo.pager`); waits
    for the pager at the end, as git does, and gives the terminal back."""
    pager = gitrepo.pager(_Look.cwd) if wanted and is_tty(sys.stdout) else None
    if not pager:
        yield
        return
    env = dict(os.environ)
    env.setdefault("LESS", "FRX")  # as git: quit if one screen, keep colours, no clearing
    env.setdefault("LV", "-c")
    env["GIT_PAGER_IN_USE"] = "true"
    import subprocess  # a pager: never in a hook

    sys.stdout.flush()
    sys.stderr.flush()
    try:
        proc = subprocess.Popen(pager, shell=True, stdin=subprocess.PIPE, env=env)
    except OSError:
        yield  # no shell to start it: print as if there were no pager
        return
    assert proc.stdin is not None
    saved = {fd: os.dup(fd) for fd in (1, 2) if fd == 1 or os.isatty(2)}
    for fd in saved:
        os.dup2(proc.stdin.fileno(), fd)
    proc.stdin.close()
    _Look.paging = True
    _Look.decided = {}
    try:
        yield
    finally:
        _unpage(proc, saved)


def to_devnull(stream: IO[str]) -> None:
    """What *stream* still holds or writes goes nowhere (its reader quit, its disk is full),
    so that nothing fails again when it is flushed at exit."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, stream.fileno())
    os.close(devnull)


def _unpage(proc: subprocess.Popen[bytes], saved: dict[int, int]) -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BrokenPipeError:  # the user quit the pager early: drop what it did not take
            to_devnull(stream)
            with contextlib.suppress(OSError):
                stream.flush()
    for fd, copy in saved.items():  # closes our ends of the pipe: the pager sees its end
        os.dup2(copy, fd)
        os.close(copy)
    _Look.paging = False
    _Look.decided = {}
    while True:
        try:
            proc.wait()
            return
        except KeyboardInterrupt:  # Ctrl-C is the pager's (less uses it): wait on
            continue
