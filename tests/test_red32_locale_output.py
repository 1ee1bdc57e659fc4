"""RED32 C4: in a locale whose encoding cannot carry a file's name (Latin-1, ASCII), show,
show --json, diff, find, losses and restore ended in "internal error: UnicodeEncodeError ...
please report it" (restore after writing the files). Every command's standard output now
writes such a character as an escape (``\\uXXXX``: in --json output, JSON's own escape, so it
stays valid JSON naming the same file), and a command to paste names the file in the
``"$(printf ...)"`` form, which gives its bytes back in any locale."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from clihelpers import VENV_BIN
from clihelpers import gs

NAME = "日本.env"
SHOWN = "\\346\\227\\245\\346\\234\\254.env')\""  # its printf form's end: bytes as octal


@pytest.fixture
def lost(repo: Path) -> Path:
    (repo / ".gitignore").write_text("ign/\n")
    (repo / "ign").mkdir()
    (repo / "ign" / NAME).write_text("z\n")
    (repo / "ign" / "café.env").write_text("c\n")
    gs(repo)
    gs(repo, "run", "--", "git", "clean", "-fdxq", rc=None)
    return repo


@pytest.mark.parametrize("encoding", ["iso-8859-1", "ascii"])
def test_every_command_prints_a_name_the_locale_cannot_encode(lost: Path, encoding: str) -> None:
    for argv in (["show", "1"], ["diff", "1"], ["find", "*.env"], ["losses"], ["log", "ign"]):
        out = gs(lost, *argv, PYTHONIOENCODING=encoding).out
        if argv[0] != "log":  # as the shell word that gives its bytes back (RED34)
            assert SHOWN in out, (argv, out)
    data = json.loads(gs(lost, "show", "1", "--json", PYTHONIOENCODING=encoding).out)
    assert f"ign/{NAME}" in json.dumps(data, ensure_ascii=False)
    diff = json.loads(gs(lost, "diff", "1", "--json", PYTHONIOENCODING=encoding).out)
    assert f"ign/{NAME}" in [c["path"] for c in diff]
    ran = gs(
        lost, "restore", "1", "ign", PYTHONIOENCODING=encoding
    )  # exit 0: it worked, and says so
    assert SHOWN in ran.out
    assert (lost / "ign" / NAME).read_text() == "z\n"


def test_a_pasted_restore_command_names_the_file_in_an_ascii_locale(repo: Path) -> None:
    (repo / ".gitignore").write_text("ign/\n")
    (repo / "ign").mkdir()
    (repo / "ign" / "café.env").write_text("c\n")
    gs(repo)
    ran = gs(repo, "run", "--", "git", "clean", "-fdxq", rc=None, PYTHONIOENCODING="ascii")
    line = next(ln for ln in ran.err.splitlines() if "restore with: " in ln)
    command = line[line.index("restore with: ") + 14 : -1]
    assert "printf" in command, command
    path = f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}"
    subprocess.run(command, shell=True, cwd=repo, check=True, env={**os.environ, "PATH": path})
    assert (repo / "ign" / "café.env").read_text() == "c\n"
