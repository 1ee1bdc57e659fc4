"""review39 RG, after RED39 G4: a restore killed (SIGKILL, the OOM killer, a power cut) after
its last write into place, before it printed its line, notes nothing and leaves the worktree as
a finished run does. The same command run again then named its own pre-restore snapshot alone,
which holds the restored versions; the user's edits, never named to them, were in the first
run's. A run after one that ran to its end by what it left names its own and the first run's."""

from __future__ import annotations

from pathlib import Path

from clihelpers import gs
from test_red39_again_before import killed_restore

# killed just after its 20th (last) rename into place: every file written, nothing printed
_KILLED = """
import os, sys
from git_snapshot.cli import main

real_rename, seen = os.rename, [0]

def rename(*args, **kwargs):
    done = real_rename(*args, **kwargs)
    if b".gsnap-tmp-" in os.fsencode(args[0]):
        seen[0] += 1
        if seen[0] >= 20:
            os._exit(9)
    return done

os.rename = rename
sys.exit(main(["-C", sys.argv[1], "restore", "1"]))
"""


def test_a_run_after_one_killed_after_its_last_write_names_the_first_runs(repo: Path) -> None:
    ran = killed_restore(repo, _KILLED)
    assert ran.stdout == b"", ran.stdout  # the user saw no snapshot named
    assert (repo / "f19.txt").read_text() == "first 19\n"
    last = gs(repo, "restore", "1").out.strip().splitlines()[-1]
    assert last.endswith(
        "; what was there before is in snapshot 3, and before the first run of this restore "
        "in snapshot 2"
    ), last
    assert gs(repo, "cat", "2", "f19.txt").out == "edited 19\n"
