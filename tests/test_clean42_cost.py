"""cleanA (session 42), the work done twice that session 41's reviews named (RJ, RE).

- RJ: under `git snapshot run`, a loss found where git's autostash held the file had its
  autostash read three times by `git diff-tree <stash>^1 <stash>`: by run._not_given_back,
  again by autostash.stash_gave_back, again by gitoverlay.overlay_from_stash. It is read once
  now, and handed on.
- RE: a stopped merge's check asked `git diff-index <HEAD then>` of the whole worktree
  (stopped._put_back: about 30 ms on 20,000 files) to learn which of a few edited paths a
  reset left at HEAD's version. Asked of those paths only (literal pathspecs), git 2.39 took
  longer with each path, and ~1 s for one under the root's first folder (review42 RA42,
  tests/test_review42_ra42_put_back.py): it asks of the whole worktree again, once.

Real git, the hooks installed as a user installs them; GIT_TRACE lists every git process.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from autostashhelpers import BOTH
from autostashhelpers import MINE
from autostashhelpers import b_changes_line_one
from clihelpers import git
from clihelpers import gs
from hookhelpers import commit
from hookhelpers import install
from hookhelpers import put_venv_on_path
from hookhelpers import side_commit
from hookhelpers import write

_STASH_DIFF = re.compile(r"built-in: git diff-tree -r -z --no-renames ([0-9a-f]{40})\^1 \1$")


def _stash_reads(trace: Path) -> list[str]:
    """The stash commits GIT_TRACE shows read by `git diff-tree <stash>^1 <stash>`."""
    return [m[1] for line in trace.read_text().splitlines() if (m := _STASH_DIFF.search(line))]


@pytest.fixture
def hooked(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return b_changes_line_one(repo, monkeypatch, ignore_env=False)


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


@pytest.fixture
def merging(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """b.txt and a.txt committed; `topic` and `main` change a.txt each their way (a merge of
    topic stops there); -b.txt, which neither touches, too. Hooks in, on main."""
    put_venv_on_path(monkeypatch)
    write(repo / "-b.txt", b"b\n")
    git(repo, "add", "--", "-b.txt")
    git(repo, "commit", "-q", "-m", "-b.txt")
    base = commit(repo, "a.txt", b"base\n")
    side_commit(repo, "topic", {"a.txt": b"topic\n"}, base=base)
    commit(repo, "a.txt", b"mainside\n")
    install(repo)
    return repo


def test_a_stopped_merges_check_names_a_dash_path_with_one_diff_index(
    merging: Path, tmp_path: Path
) -> None:
    """RED41 R2 F5's case: -b.txt edited, the merge stops, `git add -u` stages the edit with
    the resolution, `git merge --abort` resets it to HEAD's. The next command's hook names
    -b.txt (from the merge's snapshot), as ./-b.txt; its check runs one diff-index, of the
    whole worktree (no path on its command line: none taken for an option)."""
    write(merging / "-b.txt", b"MY DIRTY EDIT\n")
    assert git(merging, "merge", "topic", rc=None).rc != 0
    write(merging / "a.txt", b"resolved\n")
    git(merging, "add", "-u")
    git(merging, "merge", "--abort")
    trace = tmp_path / "trace"
    ran = git(merging, "checkout", "-q", "-b", "next", GIT_TRACE=str(trace))
    (rep,) = ran.reports
    what = "git merge (its --abort, or a command run while it was stopped)"  # (2c96120)
    assert (rep.what, rep.names) == (what, "./-b.txt"), ran.err
    asked = [
        line.split("built-in: ", 1)[1]
        for line in trace.read_text().splitlines()
        if "built-in: git diff-index" in line and "--cached" not in line
    ]
    assert len(asked) == 1 and "-b.txt" not in asked[0], asked
