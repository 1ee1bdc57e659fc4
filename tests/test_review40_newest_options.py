"""review40 RD1: the commands ``restore --newest`` prints when it cannot choose one snapshot
(each PATH in some snapshot but never all in one; only a pre-restore snapshot holding them)
dropped the --to, and --remote, the user gave: pasted, they restored in place, over the
worktree, what was asked for in another folder, or from the local store's snapshot of that
number instead of the remote's. They keep --repo, --remote and --to, as _no_id's does."""

from __future__ import annotations

from pathlib import Path

from clihelpers import gs
from conftest import committed_repo


def test_each_held_but_never_together_keeps_repo_and_to(tmp_path: Path) -> None:
    r = committed_repo(tmp_path / "r")
    (r / "a.txt").write_text("a\n")
    gs(r, "-m", "s1")
    (r / "a.txt").unlink()
    (r / "b.txt").write_text("b\n")
    gs(r, "-m", "s2")  # holds b.txt, not a.txt
    ran = gs(
        tmp_path, "restore", "--newest", "a.txt", "b.txt", "--repo", str(r), "--to", "out", rc=1
    )
    (line,) = ran.ours
    for path in ("a.txt", "b.txt"):
        assert f"git snapshot restore --newest {path} --repo={r} --to=out" in line, line


def test_the_passed_over_command_keeps_to(tmp_path: Path) -> None:
    r = committed_repo(tmp_path / "r")
    (r / "a.txt").write_text("a\n")
    gs(r, "-m", "one")  # 1: no f
    (r / "f").write_text("unsaved\n")
    gs(r, "restore", "--delete", "1", ".")  # 2 (pre-restore) holds f
    ran = gs(tmp_path, "restore", "--newest", "f", "--repo", str(r), "--to", "out", rc=1)
    assert f"git snapshot restore 2 f --repo={r} --to=out" in ran.err, ran.err
