"""cleanA (session 42), the work done twice that session 41's reviews named (RJ, RE).

- RJ: under `git snapshot run`, a loss found where git's autostash held the file had its
  autostash read three times by `git diff-tree <stash>^1 <stash>`: by run._not_given_back,
  again by hooks.stash_gave_back, again by gitoverlay.overlay_from_stash. It is read once
  now, and handed on.

Real git, the hooks installed as a user installs them; GIT_TRACE lists every git process.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from hookhelpers import commit
from hookhelpers import install
from hookhelpers import put_venv_on_path
from hookhelpers import write

BASE = b"one\ntwo\nthree\nfour\nfive\n"
UPSTREAM = BASE.replace(b"one", b"ONE")
MINE = BASE.replace(b"five", b"FIVE")
BOTH = UPSTREAM.replace(b"five", b"FIVE")

_STASH_DIFF = re.compile(r"built-in: git diff-tree -r -z --no-renames ([0-9a-f]{40})\^1 \1$")


def _stash_reads(trace: Path) -> list[str]:
    """The stash commits GIT_TRACE shows read by `git diff-tree <stash>^1 <stash>`."""
    return [m[1] for line in trace.read_text().splitlines() if (m := _STASH_DIFF.search(line))]


@pytest.fixture
def hooked(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """a.txt (BASE) committed on main; B changes line 1; hooks in."""
    put_venv_on_path(monkeypatch)
    commit(repo, "a.txt", BASE)
    git(repo, "branch", "B")
    install(repo)
    git(repo, "checkout", "-q", "B")
    commit(repo, "a.txt", UPSTREAM, msg="upstream")
    git(repo, "checkout", "-q", "main")
    return repo


def test_run_reads_the_autostash_once_in_its_check(hooked: Path, tmp_path: Path) -> None:
    """`run -- git rebase --autostash B` with a.txt edited: git's apply merges the edit with
    B's change, run's check finds a.txt changed since its snapshot and asks whether the
    autostash gave it back (it did: no report). The stash is read twice in all: once by the
    pre-rebase hook (its overlay), once by run's check (before: three times there)."""
    write(hooked / "a.txt", MINE)
    trace = tmp_path / "trace"
    ran = gs(hooked, "run", "--", "git", "rebase", "--autostash", "B", GIT_TRACE=str(trace))
    assert ran.reports == [], ran.err
    assert (hooked / "a.txt").read_bytes() == BOTH
    reads = _stash_reads(trace)
    assert len(set(reads)) == 1 and len(reads) == 2, reads
