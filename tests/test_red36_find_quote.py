r"""RED36 B4: find's "no match" line quoted the pattern as Python's repr: 'no\\pe' for the
pattern no\pe, a different pattern when pasted. It is now the shell word that gives the
pattern back, as the other commands name what the user typed."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from clihelpers import gs
from hookhelpers import install


@pytest.mark.parametrize(
    "pattern", ["no\\pe", "it's*", "lib.txt", "nothing-*", "tab\there", "*\\xff*", "caf\u00e9?"]
)
def test_the_no_match_line_quotes_the_pattern_as_a_shell_word(repo: Path, pattern: str) -> None:
    install(repo)
    gs(repo)
    out = gs(repo, "find", pattern).out.strip()
    head = "no snapshot holds a path matching "
    assert out.startswith(head), out
    word = out.removeprefix(head)
    assert "\t" not in word, word  # one line, no control character
    echoed = subprocess.run(
        ["sh", "-c", f"printf %s {word}"], capture_output=True, text=True, check=True
    )
    assert echoed.stdout == pattern, (word, echoed.stdout)
    assert word.startswith(("'", '"')), word  # quoted in the sentence, even a plain name
