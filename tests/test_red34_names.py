"""RED34 (red team C, finding 1 and 4d): a path printed as text is one shell word that gives
back its bytes, so that no two names print alike and the printed name, pasted, reaches the
file it names.

Before, names were printed with ``\\xff``, ``\\n`` escaped but a backslash left as it is and no
quotes: a name holding byte 0xff and one holding the four characters ``\\xff`` printed alike in
show, find, diff and restore; pasting what diff printed for a deleted file restored its twin,
and ``cat 1 'only\\xff'`` said the file show had just listed was not in the snapshot. ``cat``
and ``log`` named a missing path with Python's surrogate (``\\udcff``) where restore printed
``\\xff``.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from clihelpers import VENV_BIN
from clihelpers import gs

RAW = b"bad\xffname"  # byte 0xff
LITERAL = b"bad\\xffname"  # the four characters \ x f f
NEWLINE = b"n\nx"
TYPED = b"n\\nx"  # a backslash and an n
SPACED = b"a b.txt"
NAMES = (RAW, LITERAL, NEWLINE, TYPED, SPACED)


def _write(repo: Path, name: bytes, data: bytes) -> None:
    with open(os.path.join(os.fsencode(repo), name), "wb") as f:
        f.write(data)


def _read(repo: Path, name: bytes) -> bytes | None:
    try:
        with open(os.path.join(os.fsencode(repo), name), "rb") as f:
            return f.read()
    except FileNotFoundError:
        return None


def _sh(cwd: Path, line: str) -> subprocess.CompletedProcess[bytes]:
    """*line* as sh reads it pasted (PATH finds this venv's git-snapshot)."""
    env = {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    return subprocess.run(
        ["sh", "-c", line], cwd=cwd, env=env, capture_output=True, check=False, timeout=120
    )


def _word(cwd: Path, word: str) -> bytes:
    """The bytes the shell makes of *word* pasted as one argument."""
    res = _sh(cwd, f"printf %s {word}")
    assert res.returncode == 0, (word, res.stderr)
    return res.stdout


def _content(name: bytes) -> bytes:
    return b"content of " + name + b"\n"


def _taken(repo: Path) -> None:
    for name in NAMES:
        _write(repo, name, _content(name))
    gs(repo, "-m", "names")


def _printed(lines: list[str], pattern: str) -> list[str]:
    return [m[1] for m in (re.match(pattern, ln) for ln in lines) if m]


def _each_word_is_its_name(repo: Path, words: list[str]) -> None:
    assert len(words) == len(set(words)), words  # no two alike
    assert {_word(repo, w) for w in words} == set(NAMES), words


def test_show_find_diff_print_each_name_as_the_shell_word_for_it(repo: Path) -> None:
    _taken(repo)
    show = gs(repo, "show", "1").out.splitlines()
    _each_word_is_its_name(repo, _printed(show, r"^untracked\s+\S+\s+\d+ B\s+(.+)$"))

    find = gs(repo, "find", "*").out.splitlines()
    found = _printed(find, r"^(.+?)\s+1\s+\d+ B\s+[0-9a-f]{12}\s")
    _each_word_is_its_name(repo, [w for w in found if w != "README"])  # (the commit's)

    for name in NAMES:
        os.unlink(os.path.join(os.fsencode(repo), name))
    diff = gs(repo, "diff", "1", rc=None).out.splitlines()
    _each_word_is_its_name(repo, _printed(diff, r"^D (.+)$"))
    stat = gs(repo, "diff", "1", "--stat", rc=None).out.splitlines()
    _each_word_is_its_name(repo, _printed(stat, r"^ (.+?)\s+\| "))
    patch = gs(repo, "diff", "1", "-p", rc=None).out.splitlines()
    headers = _printed(patch, r"^--- (.+)$")
    assert {_word(repo, w) for w in headers} == {b"a/" + n for n in NAMES}, headers


def test_a_pasted_name_reaches_the_file_it_names(repo: Path) -> None:
    _taken(repo)
    for name in NAMES:
        os.unlink(os.path.join(os.fsencode(repo), name))
    diff = gs(repo, "diff", "1", rc=None).out.splitlines()
    for word in _printed(diff, r"^D (.+)$"):
        res = _sh(repo, f"git snapshot restore 1 {word}")
        assert res.returncode == 0, (word, res.stderr)
        name = _word(repo, word)
        assert _read(repo, name) == _content(name), (word, res.stdout)
        assert b"create " + word.encode() + b"\n" in res.stdout, res.stdout
    assert all(_read(repo, n) == _content(n) for n in NAMES)


def test_cat_takes_the_name_show_printed(repo: Path) -> None:
    _write(repo, b"only\xff", b"x\n")
    gs(repo, "-m", "one")
    (word,) = _printed(gs(repo, "show", "1").out.splitlines(), r"^untracked\s+\S+\s+\d+ B\s+(.+)$")
    res = _sh(repo, f"git snapshot cat 1 {word}")
    assert (res.returncode, res.stdout) == (0, b"x\n"), (word, res.stderr)
    res = _sh(repo, f"git snapshot log {word}")
    assert res.returncode == 0 and b"appeared" in res.stdout, (word, res.stdout, res.stderr)


def test_a_missing_name_is_printed_alike_by_cat_log_and_restore(repo: Path) -> None:
    _write(repo, b"f", b"a\n")
    gs(repo, "-m", "one")
    missing = os.fsdecode(b"zz\xffq")
    said = {
        cmd: gs(repo, *args, rc=None).err
        for cmd, args in {
            "cat": ("cat", "1", missing),
            "log": ("log", missing),
            "restore": ("restore", "1", missing),
        }.items()
    }
    assert all("\\udcff" not in err and "\udcff" not in err for err in said.values()), said
    word = re.search(r"git-snapshot: (.+?) is not in snapshot 1", said["restore"])
    assert word is not None, said
    assert _word(repo, word[1]) == b"zz\xffq"
    assert f"git-snapshot: {word[1]} is not in snapshot 1" in said["cat"], said
    assert f"git-snapshot: {word[1]} is in none of" in said["log"], said


def test_a_message_with_a_lone_surrogate_is_shown_not_an_internal_error() -> None:
    """output.message (a loss log's command, a snapshot's message) is never an exception: a
    JSON ``"\\ud800"`` in a hand-edited loss log made ``git snapshot losses`` an internal error
    (UnicodeEncodeError from os.fsencode); an undecodable byte still shows as ``\\xff``."""
    from git_snapshot import output

    assert output.message("git \ud800 reset") == "git \\ud800 reset"
    assert output.message("bad\udcffname") == "bad\\xffname"
    assert output.message("plain") == "plain"
