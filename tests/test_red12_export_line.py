"""Red team (session 15): export's 'exported snapshot N (...) to FILE' printed FILE as typed:
a name holding a newline or a terminal's escape sequence split the line or drove the
terminal. It is shown as every path is (output.display): one line, no control character."""

from __future__ import annotations

import os
from pathlib import Path

from clihelpers import gs


def test_the_exported_line_is_one_line_whatever_the_archive_is_named(
    repo: Path, tmp_path: Path
) -> None:
    gs(repo)
    name = "ok\x1b[31m\nx.tar"
    ran = gs(repo, "export", "1", str(tmp_path / name))
    assert (tmp_path / name).is_file()
    lines = ran.out.splitlines()
    assert len(lines) == 1 and "\x1b" not in ran.out, repr(ran.out)
    assert lines[0].startswith("exported snapshot 1 ") and "x.tar" in lines[0]
    assert os.listdir(tmp_path).count(name) == 1
