"""RED34 (red team C, finding 2): a folder's permissions were invisible to diff, log and
restore --dry-run.

The snapshot held `secrets/` as 0700; after `chmod 755 secrets`, `diff 1 --exit-code` said
"no changes" (exit 0), `diff 1 --json` was `[]`, `restore 1 --dry-run` said "0 entries (1
unchanged)", and the real restore put 0700 back while saying the same. Between two snapshots
a folder's mode alone was no change either, and `log` showed no row for it. A folder's mode
is kept (DESIGN) and restored, so it is a change as a file's mode is: `M`, status "mode".
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from clihelpers import gs
from hookhelpers import commit
from hookhelpers import install
from hookhelpers import put_venv_on_path
from hookhelpers import write


@pytest.fixture
def opened(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A snapshot holding secrets/ as 0700, then the folder opened to everyone (755)."""
    put_venv_on_path(monkeypatch)
    commit(repo, "a.txt", b"a\n")
    install(repo)
    write(repo / "secrets" / "key", b"k=1\n")
    (repo / "secrets").chmod(0o700)
    gs(repo, "-m", "private")
    (repo / "secrets").chmod(0o755)
    return repo


def _mode(p: Path) -> int:
    return stat.S_IMODE(os.lstat(p).st_mode)


def test_diff_against_the_worktree_names_the_folder(opened: Path) -> None:
    r = opened
    ran = gs(r, "diff", "1", "--exit-code", rc=1)
    assert "M secrets\n" in ran.out, ran.out
    assert "1 mode" in ran.out
    got = json.loads(gs(r, "diff", "1", "--json"))
    assert [(c["path"], c["status"]) for c in got] == [("secrets", "mode")]
    assert got[0]["old"]["type"] == "dir" and got[0]["old"]["mode"] == "0700"
    assert got[0]["new"]["mode"] == "0755"
    # a path filter reaches it too
    assert "M secrets\n" in gs(r, "diff", "1", "--", "secrets", rc=0).out
    patch = gs(r, "diff", "1", "-p").out
    assert "old mode 040700\nnew mode 040755\n" in patch, patch


def test_restore_dry_run_lists_it_and_restore_counts_it(opened: Path) -> None:
    r = opened
    dry = gs(r, "restore", "1", "--dry-run")
    assert "would update secrets\n" in dry.out, dry.out
    assert "would restore 1 entry from snapshot 1 (3 unchanged)" in dry.out
    assert _mode(r / "secrets") == 0o755
    done = gs(r, "restore", "1")
    assert "restored 1 entry from snapshot 1 (3 unchanged)" in done.out, done.out
    assert _mode(r / "secrets") == 0o700
    assert "no changes" in gs(r, "diff", "1", "--exit-code").out
    again = gs(r, "restore", "1")
    assert "restored 0 entries from snapshot 1 (3 unchanged)" in again.out, again.out


def test_restore_newest_does_not_pass_over_the_folder_mode(opened: Path) -> None:
    """A snapshot of the damage (755) is passed over; the one holding the folder with
    another mode would change it, so it is not."""
    r = opened
    gs(r, "-m", "the damage")  # snapshot 2: the folder as it is now
    ran = gs(r, "restore", "--newest", "secrets")
    assert "from snapshot 1" in ran.out, ran.out
    assert _mode(r / "secrets") == 0o700


def test_between_two_snapshots_and_in_log(opened: Path) -> None:
    r = opened
    gs(r, "-m", "opened")  # snapshot 2 (the hooks took none in between)
    ran = gs(r, "diff", "1", "2", "--exit-code", rc=1)
    assert "M secrets\n" in ran.out, ran.out
    got = json.loads(gs(r, "diff", "1", "2", "--json"))
    assert [(c["path"], c["status"]) for c in got] == [("secrets", "mode")]
    assert (got[0]["old"]["mode"], got[0]["new"]["mode"]) == ("0700", "0755")
    rows = json.loads(gs(r, "log", "secrets", "--json"))
    assert [(v["id"], v["status"], v["mode"]) for v in rows] == [
        (1, "appeared", "0700"),
        (2, "changed", "0755"),
    ]
    # the folder holding it changed too, as diff names a change below it
    (r / "d" / "e").mkdir(parents=True)
    write(r / "d" / "e" / "f", b"f\n")
    gs(r, "-m", "d")
    (r / "d" / "e").chmod(0o700)
    gs(r, "-m", "d/e private")
    rows = json.loads(gs(r, "log", "d", "--json"))
    assert [v["status"] for v in rows] == ["appeared", "changed"], rows
