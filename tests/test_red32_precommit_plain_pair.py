"""RED32 (red team D, contract note): the README's recommended pair, pre-commit's hooks and
`git snapshot install` (for reference-transaction, which pre-commit cannot run), printed two
git-snapshot lines for a checkout where nothing was lost: our plain shim, run by pre-commit's
script as `post-checkout.legacy`, said `git-snapshot: snapshot 2 (post-checkout): ...`, then
pre-commit said `git-snapshot (post-checkout)....Passed`. DESIGN: a hook prints at most one
line per git command when nothing is lost. One snapshot is taken (pre-commit's run of our
hook sees the shim ran and skips); the shim run as `.legacy` now leaves the one line to
pre-commit, and still says what was lost; reference-transaction still snapshots.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from clihelpers import git
from hookhelpers import COMMITTED
from hookhelpers import SECRET
from hookhelpers import env_report
from hookhelpers import side_commit
from hookhelpers import snaps
from hookhelpers import triggers
from hookhelpers import write
from precommithelpers import pc_install
from test_precommit_quiet import ours

pytestmark = pytest.mark.slow


def test_a_checkout_with_nothing_lost_is_one_line_and_one_snapshot(pc: Path) -> None:
    r = pc
    side_commit(r, "feature", {"f.txt": b"f\n"})
    pc_install(r, plain_too=True)
    ran = git(r, "checkout", "feature")
    (line,) = ours(ran.out + ran.err)
    assert line.startswith("git-snapshot (post-checkout)") and line.endswith("Passed"), line
    assert triggers(r) == ["post-checkout"]  # the shim's; pre-commit's run skipped


def test_a_rebase_prints_only_pre_commits_lines(pc: Path) -> None:
    r = pc
    side_commit(r, "feature", {"f.txt": b"f\n"})
    git(r, "commit", "-q", "--allow-empty", "-m", "mine")
    pc_install(r, plain_too=True)
    ran = git(r, "rebase", "feature")
    assert [ln for ln in ours(ran.out + ran.err) if not ln.endswith("Passed")] == [], ran


def test_a_loss_is_still_reported_once_and_merges_still_snapshot_before(pc: Path) -> None:
    r = pc
    side_commit(r, "feature", {".env": COMMITTED})
    pc_install(r, plain_too=True)
    write(r / ".env", SECRET)
    ran = git(r, "merge", "--ff-only", "feature")
    assert triggers(r)[0] == "reference-transaction"
    rep = env_report(ran, "git merge")
    assert rep.snap == snaps(r)[0]["id"]
    assert len([ln for ln in ours(ran.out + ran.err) if " destroyed " in ln]) == 1, ran
