"""Session 33's nits from red team round 32 (V1 section 6, B's and A's smaller notes): each a
test that failed on the code before its fix."""

from __future__ import annotations

from pathlib import Path

import pytest
from clihelpers import gs


@pytest.mark.parametrize(
    "argv",
    [
        ["show", "-1"],
        ["show", "-0"],
        ["cat", "-2", "a"],
        ["restore", "-1", "a", "--dry-run"],
        ["export", "-1", "x.tar"],
        ["forget", "-1"],
        ["verify", "-1"],
        ["diff", "1", "-1"],
        ["show", "-12345678901234567890"],
    ],
)
def test_a_negative_id_is_a_usage_error(repo: Path, argv: list[str]) -> None:
    """A negative number is in no ID's form (numbers start at 1): malformed, exit 2, as
    1.5 and latest~-1 are (RED32 V1), not 'no snapshot -1' (exit 1)."""
    (repo / "a").write_text("a\n")
    gs(repo)
    ran = gs(repo, *argv, rc=2)
    assert ran.err_lines == [ran.err.strip()], ran.err
    assert "bad snapshot id" in ran.err and "-" in ran.err, ran.err


@pytest.mark.parametrize("more", [[], ["--dry-run"], ["--to", "out"]])
def test_restore_newest_without_a_path_says_it_needs_one(repo: Path, more: list[str]) -> None:
    """``restore --newest`` takes PATHs, no ID: argparse said 'the following arguments are
    required: ID' (RED32 V1)."""
    ran = gs(repo, "restore", "--newest", *more, rc=2)
    assert "required: ID" not in ran.err, ran.err
    assert "--newest" in ran.err and "PATH" in ran.err, ran.err
    assert ran.err_lines[-1].startswith("git snapshot restore: error:"), ran.err


@pytest.mark.parametrize("where", ["a", "a/b"])
def test_dash_c_through_a_file_says_not_a_directory(repo: Path, where: str) -> None:
    """``-C a`` where a is a file (or a path through one) said 'no such directory' (git:
    'Not a directory'; RED32 V1): the line says a file is in the way."""
    (repo / "a").write_text("a\n")
    ran = gs(repo, "-C", where, "list", rc=1)
    assert ran.err_lines == [ran.err.strip()], ran.err
    assert "no such directory" not in ran.err, ran.err
    assert "not a directory" in ran.err and f"{repo / 'a'} is a file" in ran.err, ran.err


def _patch_of(ran: str, name: str) -> list[str]:
    """The lines of the patches (one or two) whose header names *name*."""
    out: list[str] = []
    keep = False
    for line in ran.splitlines():
        if line.startswith("diff --"):
            keep = line.endswith(f" b/{name}")
        if keep:
            out.append(line)
    return out


@pytest.mark.parametrize("against", [["1", "2"], ["1"]])
def test_diff_p_says_modes_and_links_as_git(repo: Path, against: list[str]) -> None:
    """``diff -p`` printed a bare header for a mode-only change, and a symlink's target as a
    file's text: a file holding 'b.txt' and a link to b.txt read the same (RED32 A, B). Now
    git's lines: old/new mode, new/deleted file mode, a type change as a deletion and an
    addition, and the index line (git's blob ids) that carries a link's 120000."""
    import os

    (repo / "mode").write_text("m\n")
    (repo / "f2l").write_text("b.txt")
    os.symlink("t1", repo / "lnk")
    (repo / "gone").write_text("x\n")
    gs(repo)
    (repo / "mode").chmod(0o755)
    (repo / "f2l").unlink()
    os.symlink("b.txt", repo / "f2l")
    (repo / "lnk").unlink()
    os.symlink("t2", repo / "lnk")
    (repo / "gone").unlink()
    os.symlink("tgt", repo / "newlink")
    (repo / "newf").write_text("n\n")
    if len(against) == 2:
        gs(repo)
    out = gs(repo, "diff", "-p", *against).out
    mode = _patch_of(out, "mode")
    assert mode[1:] == ["old mode 100644", "new mode 100755"], out
    f2l = _patch_of(out, "f2l")  # a file, then a link: two patches, as git prints them
    assert f2l[1:4] == ["deleted file mode 100644", "index 19acdd8..0000000", "--- a/f2l"], out
    assert f2l[9:12] == ["new file mode 120000", "index 0000000..19acdd8", "--- /dev/null"], out
    assert _patch_of(out, "lnk")[1] == "index 3e0bb63..85f0f00 120000", out
    assert _patch_of(out, "gone")[1] == "deleted file mode 100644", out
    assert _patch_of(out, "newlink")[1:3] == ["new file mode 120000", "index 0000000..c7e58fc"]
    assert _patch_of(out, "newf")[1:3] == ["new file mode 100644", "index 0000000..8ba3a16"]


def test_find_covers_this_worktree_as_list_and_log_do(repo: Path, tmp_path: Path) -> None:
    """``find`` merged a linked worktree's snapshots into this one's ranges ('1-3' where 2 was
    the other's), which ``restore 2 f`` then refused; list and log show this worktree's
    only, and so does find now; --repo reaches the whole repository, as list's does (RED32 B)."""
    import json

    from clihelpers import git

    linked = tmp_path / "linked"
    git(repo, "worktree", "add", "-q", str(linked))
    for where in (repo, linked, repo):
        (where / "f").write_text("same\n")
        gs(where)
    assert [s["id"] for s in json.loads(gs(repo, "list", "--json").out)] == [1, 3]
    runs = json.loads(gs(repo, "find", "f", "--json").out)
    assert [r["snapshots"] for r in runs] == [[1, 3]], runs
    assert "1-3" not in gs(repo, "find", "f").out
    runs = json.loads(gs(linked, "find", "f", "--json").out)
    assert [r["snapshots"] for r in runs] == [[2]], runs
    runs = json.loads(gs(repo, "find", "f", "--json", "--repo", str(repo)).out)
    assert sorted(i for r in runs for i in r["snapshots"]) == [1, 2, 3], runs


def test_export_names_the_setid_bits_it_leaves_off(repo: Path) -> None:
    """export wrote set-uid (and set-gid on files) off without a word, while restore names
    what it leaves off (RED32 B5): export says it in restore's words; a shared folder's
    set-gid, which both keep, is not named."""
    import tarfile

    for name, mode in (("suid", 0o4755), ("sgid", 0o2755), ("plain", 0o755)):
        (repo / name).write_text(name)
        (repo / name).chmod(mode)
    (repo / "shared").mkdir()
    (repo / "shared").chmod(0o2775)
    gs(repo)
    ran = gs(repo, "export", "1", "out.tar")
    said = [line for line in ran.out.splitlines() if "set-uid/set-gid" in line]
    assert said == [
        "left off the set-uid/set-gid bits of 2 path(s) (a snapshot is untrusted input; "
        "chmod u+s / g+s puts them back): sgid, suid"
    ], ran.out
    with tarfile.open(repo / "out.tar") as tar:
        modes = {m.name: m.mode for m in tar.getmembers()}
    assert modes["suid"] == modes["sgid"] == 0o755 and modes["shared"] == 0o2775


def test_losses_with_dash_c_through_a_file_says_not_a_directory(repo: Path) -> None:
    """``losses`` reads a missing -C folder as a repository deleted whole; a file in the way
    is said as the other commands say it."""
    (repo / "a").write_text("a\n")
    ran = gs(repo, "-C", "a", "losses", rc=1)
    assert ran.err_lines == [ran.err.strip()], ran.err
    assert "not a directory" in ran.err and f"{repo / 'a'} is a file" in ran.err, ran.err


def test_diff_p_of_a_file_gone_as_it_was_looked_at_prints_no_mode() -> None:
    """An added file read, then gone before its lstat (an editor's swap file): neither side
    has a mode; the patch says so without one, it did not end in an internal error."""
    from git_snapshot.commands import patch

    lines = list(patch._patch(b"swap", (None, None), (b"x\n", None)))
    assert lines[0] == "diff --snapshot a/swap b/swap\n"
    assert lines[1].startswith("index ") and lines[1].endswith("\n") and "None" not in lines[1]
