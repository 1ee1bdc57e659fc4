"""Review of RED40 D9.8's date scheme: tools/manpage.py --check must pass on any day, in a
fresh clone, and in any terminal. The page was wrapped at the width of the terminal it was
made in (cliparse.Formatter takes COLUMNS, else the terminal's): in a terminal of 150
columns `--check` said the page was stale (test_man_page_is_current failed under a plain
`pytest` there), and a page regenerated there was wrapped at 148 and dated anew. The page is
now always made at 80 columns, as shutil's fallback.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from clihelpers import run

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "man" / "man1" / "git-snapshot.1"


@pytest.mark.parametrize("columns", ["40", "150"])
def test_the_check_passes_in_a_terminal_of_any_width(columns: str) -> None:
    run(ROOT, sys.executable, "tools/manpage.py", "--check", env={**os.environ, "COLUMNS": columns})


def test_render_is_the_page_whatever_the_width(monkeypatch: pytest.MonkeyPatch) -> None:
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import manpage
    finally:
        sys.path.remove(str(ROOT / "tools"))
    monkeypatch.setenv("COLUMNS", "150")
    assert manpage.render() == PAGE.read_text(encoding="utf-8")
    assert os.environ["COLUMNS"] == "150"  # (put back)
