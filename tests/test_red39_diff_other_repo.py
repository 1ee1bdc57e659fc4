"""RED39 G3: ``diff r2:1`` run in another repository compared the snapshot with r2's worktree
and called it "the worktree" (the one the user is in, as in a linked worktree, where `diff 1`
compares with the current one); ``diff r2:1 r:1`` printed "snapshot 1 -> snapshot 1". Now a
snapshot of another repository than the one the command runs in is named qualified, and the
worktree compared with is named by its path when it is not the current one (a note on stderr
where no summary line is printed: -p, --stat, --json)."""

from __future__ import annotations

import json
from pathlib import Path

from clihelpers import git
from clihelpers import gs
from conftest import init_repo


def _two(tmp_path: Path) -> tuple[Path, Path]:
    r2 = init_repo(tmp_path / "r2")
    (r2 / "f").write_text("other\n")
    gs(r2, "-m", "o")  # r2:1
    (r2 / "f").write_text("r2 edited\n")
    r = init_repo(tmp_path / "r")
    (r / "f").write_text("mine\n")
    gs(r, "-m", "m")  # r:1
    return r, r2


def test_another_repositorys_snapshot_names_the_worktree_compared(tmp_path: Path) -> None:
    r, r2 = _two(tmp_path)
    out = gs(r, "diff", "r2:1").out
    assert out.splitlines()[-1] == f"snapshot r2:1 -> the worktree {r2}: 1 modified", out
    same = gs(r, "diff", "r2:1", "--", "nothing").out
    assert same.splitlines()[-1] == f"no changes between snapshot r2:1 and the worktree {r2}", same


def test_patch_and_json_say_which_worktree_on_stderr(tmp_path: Path) -> None:
    r, r2 = _two(tmp_path)
    for args in (["-p"], ["--stat"], ["--json"]):
        ran = gs(r, "diff", "r2:1", *args)
        assert any(f"the worktree {r2}" in line for line in ran.ours), (args, ran.err)
    assert json.loads(gs(r, "diff", "r2:1", "--json").out)[0]["path"] == "f"


def test_two_repositories_snapshots_are_named_apart(tmp_path: Path) -> None:
    r, _ = _two(tmp_path)
    out = gs(r, "diff", "r2:1", "r:1").out
    assert out.splitlines()[-1] == "snapshot r2:1 -> snapshot 1: 1 modified", out
    out = gs(r, "diff", "--repo", "r2", "1", "1").out
    assert out.splitlines()[-1] == "no changes between snapshot r2:1 and snapshot r2:1", out


def test_this_repository_and_a_linked_worktree_say_the_worktree(tmp_path: Path) -> None:
    r, _ = _two(tmp_path)
    ran = gs(r, "diff", "1")
    assert ran.out.splitlines()[-1] == "no changes between snapshot 1 and the worktree", ran.out
    assert not ran.ours, ran.err
    git(r, "add", "f")
    git(r, "commit", "-q", "-m", "i")
    git(r, "worktree", "add", "-q", str(tmp_path / "w"))
    (tmp_path / "w" / "f").write_text("w's own\n")
    out = gs(tmp_path / "w", "diff", "1").out  # the main worktree's snapshot, this worktree
    assert out.splitlines()[-1] == "snapshot 1 -> the worktree: 1 modified", out
