"""RED40 D6: any --keep-* option of `git snapshot prune` replaces the whole configured
policy (snapshot.keepLast, keepWithin, ...), as restic's options do, and nothing said so: a
user who added `--keep-daily 30` to keep more lost the 14-day window too. `prune -h` (and
the man page made from it) now says so; this pins that the behaviour is what it says.

Real git, the plain hooks installed as a user installs them.
"""

from __future__ import annotations

from pathlib import Path

from clihelpers import git
from clihelpers import gs
from hookhelpers import install
from hookhelpers import snaps
from hookhelpers import write


def test_prune_help_says_an_option_replaces_the_configured_policy() -> None:
    said = " ".join(gs(Path.cwd(), "prune", "-h").out.split())
    assert "any --keep-* option replaces them all" in said, said
    assert "snapshot.keep* settings" in said, said


def test_an_option_replaces_the_configured_policy_as_the_help_says(repo: Path) -> None:
    install(repo)
    git(repo, "config", "snapshot.keepLast", "100")
    git(repo, "config", "snapshot.keepWithin", "14d")
    for n in range(3):
        write(repo / "f.txt", f"{n}\n".encode())
        gs(repo, "create")
    assert gs(repo, "prune", "--dry-run").out.startswith("would forget 0 snapshot(s)")
    # the configured 100 and 14 days no longer apply: only the option's 2 are kept (counted
    # from the list: install may have taken the worktree's first snapshot too)
    older = [str(s["id"]) for s in snaps(repo)][:-2]
    assert older, "three snapshots at least"
    out = gs(repo, "prune", "--keep-last", "2", "--dry-run").out
    assert out.startswith(f"would forget {len(older)} snapshot(s): {', '.join(older)}\n"), out
