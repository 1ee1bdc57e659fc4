"""RED40 D8: the usage line and the man page showed `[--color [WHEN]]`, which invites
`git snapshot --color always list`: `always` is then read as the command. `--color` takes
its value glued (`--color=always`), as git's own does: the synopsis says so, as git's pages
write it, `[--color[=WHEN]]`, in -h and in the man page.
"""

from __future__ import annotations

import sys
from pathlib import Path

from clihelpers import gs

ROOT = Path(__file__).resolve().parent.parent


def test_the_usage_line_glues_the_colour_value() -> None:
    out = gs(Path.cwd(), "-h").out
    assert "[--color[=WHEN]]" in out, out
    assert "--color [WHEN]" not in out, out
    (listed,) = [ln for ln in out.splitlines() if ln.strip().startswith("--color")]
    assert listed.strip().startswith("--color[=WHEN]"), listed


def test_the_man_page_glues_it_too() -> None:
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import manpage
    finally:
        sys.path.remove(str(ROOT / "tools"))
    page = manpage.render()
    assert "[--color[=WHEN]]" in page, page[:600]
    assert "[--color [WHEN]]" not in page
    assert r"\fB\-\-color\fR[=\fI\,WHEN\/\fR]" in page
