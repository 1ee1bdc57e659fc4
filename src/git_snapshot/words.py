"""Names in one line of text: the first few, and how many more; a name as the shell word that
gives it back. Imports nothing but sys: the hooks, the store and the commands all use it."""

from __future__ import annotations

import sys

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (the hook path)
if TYPE_CHECKING:
    from collections.abc import Sequence


def first_of(texts: Sequence[str], shown: int = 3) -> str:
    """ "a, b, c and 2 more": the first *shown* of *texts*, joined, and the count of the rest."""
    first = ", ".join(texts[:shown])
    return first + (f" and {len(texts) - shown} more" if len(texts) > shown else "")


def shell_quote(path: bytes, exact: bool = False) -> str:
    """*path* as one word, on one line, that a shell gives back as these bytes: shlex's quoting;
    or, for a name holding a control or format character (a newline, a tab, a terminal's
    escape sequence), bytes that are not UTF-8 or characters the output's encoding cannot
    carry (a Latin-1 or ASCII locale), ``"$(printf '...')"`` with each such byte
    as an octal escape (any POSIX shell: sh/dash, bash, zsh, ksh; fish from 3.4 on). So a
    printed command works when its one line is pasted, and a file's name never writes an
    escape sequence to the terminal. A leading ``-`` is escaped too: printf would read it as
    an option.

    ``$(...)`` strips trailing newlines, and no POSIX word on one line can end in one: a path
    ending in a newline gets a ``/`` after it inside the printf, which every PATH argument of
    git-snapshot drops as ``git`` does (``-C``, ``--to``, restore's, show's, log's paths).
    Only a word that is not such a path (*exact*: a command echoed) is given as ANSI-C
    ``$'...'`` instead, which bash, zsh and ksh read but dash takes literally."""
    import shlex  # a loss report's restore command only: not in every hook (it compiles a regex)
    import unicodedata

    text = path.decode("utf-8", "surrogateescape")
    if not unencodable(text) and all(
        not 0xDC80 <= ord(ch) <= 0xDCFF and unicodedata.category(ch) not in _UNSAFE for ch in text
    ):
        return shlex.quote(text)
    if exact and path.endswith(b"\n"):
        body = "".join(
            chr(b) if 32 <= b < 127 and chr(b) not in "\\'" else f"\\{b:03o}" for b in path
        )
        return f"$'{body}'"
    body = "".join(chr(b) if 32 <= b < 127 and chr(b) not in "\\'%" else f"\\{b:03o}" for b in path)
    if body.startswith("-"):  # printf would take it for an option (dash, bash: "-d: invalid")
        body = "\\055" + body[1:]
    slash = "/" if path.endswith(b"\n") else ""
    return f"\"$(printf '{body}{slash}')\""


_UNSAFE = frozenset({"Cc", "Cf", "Zl", "Zp"})  # controls, format (bidi), line/paragraph breaks


def unencodable(text: str) -> bool:
    """Whether stdout or stderr cannot carry *text* as it is (a command printed for pasting:
    an escape in it would name another file)."""
    if text.isascii():
        return False
    for stream in (sys.stdout, sys.stderr):
        try:
            text.encode(getattr(stream, "encoding", None) or "utf-8")
        except UnicodeEncodeError:
            return True
        except LookupError:
            continue
    return False
