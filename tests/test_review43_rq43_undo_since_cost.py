"""Review RQ43 (session 43) of fixQ's 79e24e7: `undo`'s "changed since the report" check
(commands/undo_since) asked losses.gives_back once per path and later version, and each
call asks gitoverlay.written_otherwise (outside a hook: a `git config` of its own, and a
check-attr where an attribute may make git write otherwise). In a `* text=auto` repository
every text file is one git converts: an undo of a `checkout -- d` report over a folder of 200
files, which git had written again since and a snapshot since held, ran 420 git processes
(19 before 79e24e7); under `eol=crlf`, 1620 (before 79e24e7 too: `converted` per path). The
versions of one snapshot are now asked together: the count no longer grows with the files.

Real git, the hooks installed as a user installs them; GIT_TRACE lists every git process.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from conftest import committed_repo
from hookhelpers import commit
from hookhelpers import install
from hookhelpers import write

_PROCESS = re.compile(r"trace: (built-in|exec|run_command):")


def _undo_processes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, n: int, attributes: bytes
) -> int:
    """git processes of `git snapshot undo` of a `checkout -- d` report over *n* edited files
    that git wrote again since (a snapshot since holds git's versions); asserts the undo."""
    # (the commits' reflog entries, dated to the second, well before the report: else undo
    # reads the moves of HEAD "since" it, or not, as the clock falls)
    monkeypatch.setenv("GIT_COMMITTER_DATE", "2020-01-01T00:00:00Z")
    r = committed_repo(tmp_path / f"r{n}")
    commit(r, ".gitattributes", attributes)
    for i in range(n):
        write(r / "d" / f"f{i}.txt", b"line %d\n" % i)
    git(r, "add", "d")
    git(r, "commit", "-q", "-m", "d")
    monkeypatch.delenv("GIT_COMMITTER_DATE")
    install(r)
    for i in range(n):
        write(r / "d" / f"f{i}.txt", b"edit %d\n" % i)
    gs(r, "create", "-m", "before")
    (rep,) = git(r, "checkout", "--", "d").reports
    assert f"{n} files" in rep.kinds, rep
    for i in range(n):  # git writes them again (no hook, no reflog), after the report; a snapshot
        (r / "d" / f"f{i}.txt").unlink()  # since holds them
    git(r, "checkout-index", "-f", "-a")
    later = time.time_ns() + 2_000_000_000  # (the kernel's coarse clock: after the report)
    for i in range(n):
        os.utime(r / "d" / f"f{i}.txt", ns=(later, later))
    gs(r, "create", "-m", "since")
    trace = tmp_path / f"trace{n}"
    ran = gs(r, "undo", GIT_TRACE=str(trace))
    assert (r / "d" / "f0.txt").read_bytes() == b"edit 0\n", ran.err
    return sum(1 for line in trace.read_text().splitlines() if _PROCESS.search(line))


@pytest.mark.parametrize("attributes", [b"* text=auto\n", b"*.txt text eol=lf\n"])
def test_undos_changed_since_check_asks_git_per_snapshot_not_per_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, attributes: bytes
) -> None:
    few = _undo_processes(tmp_path, monkeypatch, 4, attributes)
    many = _undo_processes(tmp_path, monkeypatch, 24, attributes)
    assert many == few, (few, many)
