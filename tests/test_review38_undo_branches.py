"""Review 38 (RB) of RED38 B1: `undo`'s "changed since the report" check and the branches
checked out since.

A `git checkout` takes a snapshot (its post-checkout hook). A version that a checkout of
another branch wrote since the report, held by that snapshot, is git's (a commit HEAD was
at), not the user's work; once the user is back on the branch, undo must put back what the
report named. It refused, naming git's own version as "a later version" a snapshot holds,
because only HEAD, the index, git's state files and the stash were asked.

Real git, the plain hooks installed as a user installs them.
"""

from __future__ import annotations

from pathlib import Path

from clihelpers import git
from clihelpers import gs
from hookhelpers import commit
from hookhelpers import install
from hookhelpers import side_commit
from hookhelpers import write

OLD = b"OLD_SECRET=1\n"  # the user's ignored .env, which the merge wrote over (reported)
SHARED = b"SHARED=1\n"  # the branch's committed .env
FEATURE = b"FEATURE=1\n"  # another branch's committed .env


def test_a_version_a_branch_checked_out_since_wrote_is_no_change(repo: Path) -> None:
    commit(repo, ".gitignore", b".env\n")
    side_commit(repo, "other", {".env": SHARED})
    side_commit(repo, "feature", {".env": FEATURE}, base="other")
    install(repo)
    write(repo / ".env", OLD)
    ran = git(repo, "merge", "-q", "other")
    (rep,) = ran.reports
    assert rep.names == ".env", ran.err
    git(repo, "checkout", "-q", "feature")  # its hook's snapshot holds FEATURE, since
    assert (repo / ".env").read_bytes() == FEATURE
    assert not git(repo, "checkout", "-q", "-").reports
    assert (repo / ".env").read_bytes() == SHARED
    ran = gs(repo, "undo")
    assert (repo / ".env").read_bytes() == OLD, ran.err
