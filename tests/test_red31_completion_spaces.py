"""RED31: bash completes a path inside a snapshot that holds a space (or a quote, or a $) as
one word, escaped as the command line needs it. The script's ``compgen -W`` split the
store's answer at every space: ``restore 1 my`` offered ``my``, ``file.txt``, ``other.txt``,
and a path so completed named files that do not exist."""

from __future__ import annotations

import os
import shlex
from pathlib import Path

from clihelpers import VENV_BIN
from clihelpers import gs
from clihelpers import run


def _complete(cwd: Path, script: Path, words: list[str]) -> list[str]:
    """What bash completes for the last of *words* (as typed, escapes and all), run for real
    with COMP_WORDS set as bash sets it."""
    code = (
        f"source {script}; COMP_WORDS=({' '.join(shlex.quote(w) for w in words)}); "
        'COMP_CWORD=$((${#COMP_WORDS[@]}-1)); COMP_LINE="${COMP_WORDS[*]}"; '
        'COMP_POINT=${#COMP_LINE}; _shtab_git_snapshot; printf "%s\\n" "${COMPREPLY[@]}"'
    )
    env = {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}"}
    return [w for w in run(cwd, "bash", "-c", code, env=env).out.splitlines() if w]


def test_paths_with_spaces_complete_as_one_word(repo: Path, tmp_path: Path) -> None:
    for name in ("my file.txt", "my other.txt", "it's $HOME.txt"):
        (repo / name).write_text(name)
    gs(repo)
    script = tmp_path / "gs.bash"
    script.write_text(gs(repo, "completion", "bash").out)
    base = ["git-snapshot", "restore", "1"]
    assert _complete(repo, script, [*base, "my"]) == ["my\\ file.txt", "my\\ other.txt"]
    assert _complete(repo, script, [*base, "my\\ f"]) == ["my\\ file.txt"]
    assert _complete(repo, script, [*base, "it"]) == ["it\\'s\\ \\$HOME.txt"]
    # what bash inserts, read back as the shell reads a word: the name itself
    assert shlex.split("it\\'s\\ \\$HOME.txt") == ["it's $HOME.txt"]
