"""Where the command line runs from (a subdirectory, ``-C PATH``) and how it fails: exit 1 with
one line on stderr for errors, exit 2 for usage errors, never a traceback."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from test_cli_helpers import snap_id
from test_cli_helpers import write

from git_snapshot.cli import main


def test_from_a_subdirectory_the_whole_worktree_is_snapshotted(repo: Path) -> None:
    write(repo / "top.txt", "t\n")
    sub = repo / "a" / "b"
    write(sub / "deep.txt", "d\n")
    sid = snap_id(gs(sub))
    entries = json.loads(gs(sub, "show", str(sid), "--json").out)["entries"]
    assert {"README", "top.txt", "a/b/deep.txt"} <= {e["path"] for e in entries}
    (snap,) = json.loads(gs(sub, "list", "--json").out)
    assert snap["worktree"] == os.path.realpath(repo)


def test_dash_c_runs_as_if_started_there(repo: Path, tmp_path: Path) -> None:
    write(repo / "f.txt", "f\n")
    ran = gs(tmp_path, "-C", "repo", "create", "-m", "via -C")
    assert snap_id(ran) == 1
    (snap,) = json.loads(gs(tmp_path, "-C", str(repo / "."), "list", "--json").out)
    assert snap["message"] == "via -C"
    (repo / "f.txt").unlink()
    gs(tmp_path, "-C", "repo", "restore", "1", "f.txt")
    assert (repo / "f.txt").read_text() == "f\n"


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["list"],
        ["show", "latest"],
        ["diff"],
        ["restore", "latest"],
        ["export", "latest", "x.tar"],
        ["run", "--", "true"],
        ["verify", "1"],
        ["prune"],
    ],
    ids=lambda a: " ".join(a) or "create",
)
def test_outside_a_repository_one_line_exit_1(tmp_path: Path, argv: list[str]) -> None:
    outside = tmp_path / "plain"
    outside.mkdir()
    ran = gs(outside, *argv, rc=1)
    assert ran.out == ""
    assert ran.err_lines == [ran.err.strip()]
    assert ran.err.startswith("git-snapshot: not a git repository")
    assert "-C PATH" in ran.err  # says what to do
    assert not (outside / "x.tar").exists()


def test_missing_dash_c_directory(tmp_path: Path) -> None:
    ran = gs(tmp_path, "-C", "nowhere", "list", rc=1)
    assert ran.err_lines == [ran.err.strip()] and "no such directory" in ran.err


def test_inside_dot_git_is_not_a_worktree(repo: Path) -> None:
    ran = gs(repo / ".git", "list", rc=1)
    assert ran.err_lines == [ran.err.strip()] and "not a worktree" in ran.err


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["show", "99"], "no snapshot 99"),
        (["show", "abc"], "bad snapshot id"),
        (["show", "-3"], "bad snapshot id"),  # numbers start at 1 (session 33)
        (["restore", "12"], "no snapshot 12"),
        (["diff", "1", "42"], "no snapshot 42"),
        (["export", "nope", "x.tar"], "bad snapshot id"),
        (["verify", "7"], "no snapshot 7"),
    ],
)
def test_bad_ids_one_line_exit_1(repo: Path, argv: list[str], words: str) -> None:
    """An ID that names no snapshot is an error (1); one in no ID's form a usage error (2;
    RED32)."""
    gs(repo)
    ran = gs(repo, *argv, rc=2 if words == "bad snapshot id" else 1)
    assert ran.err_lines == [ran.err.strip()]
    assert words in ran.err and "git snapshot list" in ran.err


def test_latest_before_any_snapshot(repo: Path) -> None:
    ran = gs(repo, "show", "latest", rc=1)
    assert ran.err_lines == [ran.err.strip()] and "git snapshot" in ran.err


@pytest.mark.parametrize(
    "argv",
    [
        ["bogus"],
        ["restore"],
        ["show"],
        ["export", "1"],
        ["list", "--frobnicate"],
        ["prune", "--keep-last", "many"],
        ["prune", "--keep-last", "0"],
        ["diff", "1", "2", "3"],
        ["run"],
        ["run", "--"],
    ],
    ids=" ".join,
)
def test_usage_errors_exit_2(repo: Path, argv: list[str]) -> None:
    gs(repo)
    before = gs(repo, "list", "--json").out
    ran = gs(repo, *argv, rc=2)
    assert ran.out == ""
    assert "usage" in ran.err.lower() or "--keep-last" in ran.err
    assert gs(repo, "list", "--json").out == before  # nothing was done


def test_in_process_main_returns_codes(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["-C", str(repo)]) == 0
    assert capsys.readouterr().out.startswith("snapshot 1:")
    assert main(["-C", str(tmp_path), "list"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not a git repository" in err
    with pytest.raises(SystemExit) as exc:
        main(["-C", str(repo), "nonsense"])
    assert exc.value.code == 2


def test_a_broken_git_config_is_one_line(repo: Path) -> None:
    git(repo, "config", "snapshot.keepWithin", "forever")
    ran = gs(repo, "run", "--", "true", rc=1)
    assert ran.err_lines == [ran.err.strip()] and "forever" in ran.err
