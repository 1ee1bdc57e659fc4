"""Red team (session 30), the daily tools: answers that were false.

- ``list -n N`` with N above the number of snapshots listed only the newest N - count of them
  (``-n 5`` of 4 snapshots: one), so a user took the oldest for gone.
- ``@{-1}`` (git's "the branch before"), ``@{+5}``, ``@{5.}``: a lone number git reads as a day
  of the month, whatever signs or dots stand around it; only ``@{5}`` was refused, the others
  chose a snapshot of that day silently.
- ``find ./a.txt`` at the worktree's top found nothing (in a subfolder it did, and ``cat``
  reads ``./a.txt`` everywhere)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from clihelpers import gs


def _ids(out: str) -> list[int]:
    return [s["id"] for s in json.loads(out)]


def test_list_n_above_the_count_lists_them_all(repo: Path) -> None:
    for i in range(4):
        (repo / "f").write_text(f"{i}\n")
        gs(repo, "create")
    for n in (4, 5, 7, 8, 100):
        assert _ids(gs(repo, "list", "-n", str(n), "--json")) == [1, 2, 3, 4], n
        assert _ids(gs(repo, "list", "--all", "-n", str(n), "--json")) == [1, 2, 3, 4], n
        rows = gs(repo, "list", "-n", str(n)).splitlines()[1:]
        assert [int(r.split()[0]) for r in rows] == [1, 2, 3, 4], n
    assert _ids(gs(repo, "list", "-n", "2", "--json")) == [3, 4]


@pytest.mark.parametrize("date", ["-1", "+5", "5.", ".5", "5,", " 3 ", "-05"])
def test_a_lone_number_with_signs_or_dots_is_refused(repo: Path, date: str) -> None:
    gs(repo, "create")
    ran = gs(repo, "cat", f"@{{{date}}}", "README", rc=None)
    assert ran.rc != 0 and "lone number" in ran.err and "latest~" in ran.err, ran.err
    assert len(ran.err_lines) == 1, ran.err
    listed = gs(repo, "list", "--since", date, rc=None)
    assert listed.rc != 0 and "lone number" in listed.err, listed.err


@pytest.mark.parametrize("date", ["2026-12-01", "10:00", "1.hour.ago", "1700000000", "noon"])
def test_dates_with_more_than_a_lone_number_are_read(repo: Path, date: str) -> None:
    gs(repo, "create")
    ran = gs(repo, "list", "--since", date, rc=None)
    assert "lone number" not in ran.err, ran.err


def test_find_reads_dot_slash_at_the_top_as_in_a_subfolder(repo: Path) -> None:
    (repo / "a.txt").write_text("a\n")
    (repo / "sub").mkdir()
    (repo / "sub" / "b.txt").write_text("b\n")
    gs(repo, "create")
    for pattern, path in [
        ("./a.txt", "a.txt"),
        ("./sub/b.txt", "sub/b.txt"),
        ("sub/../a.txt", "a.txt"),
    ]:
        found = json.loads(gs(repo, "find", pattern, "--json"))
        assert [f["path"] for f in found] == [path], (pattern, found)
    found = json.loads(gs(repo / "sub", "find", "./b.txt", "--json"))
    assert [f["path"] for f in found] == ["sub/b.txt"], found
    assert gs(repo, "find", "../a.txt", rc=None).rc != 0


def test_the_readme_guard_alias_cleans_where_it_is_typed(repo: Path) -> None:
    """README's alias for ``git clean -fdx`` under ``run``: git runs a ``!`` alias at the
    worktree's top, and the README's first alias cleaned the whole worktree from a subfolder
    (the top's .env with it) and printed a restore command that failed there."""
    import re
    import shlex

    readme = (Path(__file__).parent.parent / "README.md").read_text()
    line = re.search(r"^git config --global alias\.nuke (.*)$", readme, re.M)
    assert line is not None
    (value,) = shlex.split(line.group(1))
    import os

    from clihelpers import VENV_BIN
    from clihelpers import git
    from clihelpers import run

    git(repo, "config", "--global", "alias.nuke", value)
    (repo / ".env").write_text("KEEP\n")
    (repo / "sub").mkdir()
    (repo / "sub" / "junk").write_text("junk\n")
    path = f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"
    ran = run(repo / "sub", "git", "nuke", env={**os.environ, "PATH": path})
    assert (repo / ".env").read_text() == "KEEP\n"
    assert not (repo / "sub" / "junk").exists()
    (rep,) = ran.reports
    assert rep.command[:2] == ["git", "snapshot"], rep
    gs(repo / "sub", *rep.command[2:])  # pasted where the user typed the alias
    assert (repo / "sub" / "junk").read_text() == "junk\n"


def test_log_says_left_out_where_a_snapshot_left_the_path_out(repo: Path) -> None:
    """``log`` said "vanished" then "appeared" where a snapshot only left the path out
    (``snapshot.exclude``): the file was never deleted."""
    from clihelpers import git

    (repo / "data").mkdir()
    (repo / "data" / "model.bin").write_text("v1\n")
    gs(repo, "create")  # 1 holds it
    git(repo, "config", "snapshot.exclude", "/data/")
    gs(repo, "create")  # 2 leaves data/ out
    gs(repo, "create")  # 3 too
    git(repo, "config", "--unset", "snapshot.exclude")
    gs(repo, "create")  # 4 holds it again, unchanged
    (repo / "data" / "model.bin").write_text("v2\n")
    gs(repo, "create")  # 5: changed
    (repo / "data" / "model.bin").unlink()
    gs(repo, "create")  # 6: deleted
    rows = json.loads(gs(repo, "log", "data/model.bin", "--json"))
    assert [(r["id"], r["status"], r["left_out"]) for r in rows] == [
        (1, "appeared", None),
        (2, "left out", "excluded"),
        (4, "unchanged", None),
        (5, "changed", None),
        (6, "vanished", None),
    ], rows
    text = gs(repo, "log", "data/model.bin")
    assert "vanished" in text and "(excluded)" in text and text.count("vanished") == 1, text


def test_diff_compares_what_the_snapshot_holds_under_a_path_excluded_now(repo: Path) -> None:
    """``diff ID`` against the worktree said "no changes" (and ``--exit-code`` 0) for a file
    the snapshot holds under a path excluded since, while ``restore`` of it would write the
    file; and said "A" with no note where the snapshot left a path out that is not excluded
    any more."""
    from clihelpers import git

    (repo / "data").mkdir()
    (repo / "data" / "model.bin").write_text("v1\n")
    gs(repo, "create")  # 1 holds data/model.bin
    git(repo, "config", "snapshot.exclude", "/data/")
    (repo / "data" / "model.bin").write_text("v2, changed\n")
    (repo / "data" / "new.bin").write_text("new\n")  # not in 1, excluded now: not a change
    ran = gs(repo, "diff", "1", "--exit-code", rc=None)
    assert ran.rc == 1 and "M data/model.bin" in ran and "new.bin" not in ran, ran
    assert "would update data/model.bin" in gs(repo, "restore", "1", "data/model.bin", "--dry-run")
    gs(repo, "create")  # 2 leaves data/ out
    git(repo, "config", "--unset", "snapshot.exclude")
    shown = gs(repo, "diff", "2")
    assert "A data/model.bin" in shown, shown
    assert "snapshot 2 left out data (excluded)" in shown.err, shown.err
    git(repo, "config", "snapshot.exclude", "/data/")  # excluded again: nothing shown, no note
    quiet = gs(repo, "diff", "2", "--exit-code")
    assert "data" not in quiet and quiet.err == "", (quiet, quiet.err)


def test_a_command_from_a_deleted_directory_says_so_in_one_line(repo: Path) -> None:
    """From a folder deleted while the shell was in it, every command was an internal error
    (FileNotFoundError of the current directory)."""
    import os
    import shutil

    from clihelpers import VENV_BIN
    from clihelpers import run

    gone = repo / "gen"
    gone.mkdir()
    gs(repo, "create")
    env = {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    shell = "cd gen && rm -rf ../gen && git snapshot $0"
    for cmd in ("list", "losses", "undo", "diff"):
        ran = run(repo, "sh", "-c", shell, cmd, rc=None, env=env)
        assert ran.rc == 1 and len(ran.err_lines) == 1, (cmd, ran.err)
        assert "current directory no longer exists" in ran.err and "-C" in ran.err, ran.err
        gone.mkdir()
    shutil.rmtree(gone)
    assert gs(repo, "-C", str(repo), "list").rc == 0


def test_a_worktree_moved_by_git_points_to_its_snapshots(repo: Path) -> None:
    """After ``git worktree move``, ``log``, ``cat latest`` and ``restore latest`` said "no
    snapshots of this worktree yet; take one": only ``list`` named where they were."""
    from clihelpers import git

    old, new = repo.parent / "wt-b", repo.parent / "wt-c"
    git(repo, "worktree", "add", "-q", str(old), "-b", "b")
    (old / ".env").write_text("SECRET\n")
    n = json.loads(gs(old, "create", "--json"))["id"]
    git(repo, "worktree", "move", str(old), str(new))
    # (RED33 A1: since, its history follows it: its snapshots are the moved worktree's)
    assert str(n) in gs(new, "log", ".env").out
    assert gs(new, "cat", "latest", ".env") == "SECRET\n"
    (new / ".env").write_text("other\n")
    gs(new, "restore", "latest", ".env")
    assert (new / ".env").read_text() == "SECRET\n"
    assert gs(new, "cat", str(n), ".env") == "SECRET\n"  # by number: as before


def test_run_passes_a_signal_death_through_as_a_shell_does(repo: Path) -> None:
    """``run -- CMD`` killed by SIGTERM exited 241 (sys.exit(-15)), its JSON said -15."""
    ran = gs(repo, "run", "--", "sh", "-c", "kill -TERM $$", rc=None)
    assert ran.rc == 143, ran.rc
    out = gs(repo, "run", "--json", "--", "sh", "-c", "kill -TERM $$", rc=None)
    assert out.rc == 143 and json.loads(out)["exit_code"] == 143, out


def test_json_paths_tell_a_newline_from_a_backslash_n(repo: Path) -> None:
    """``show --json`` and ``find --json`` wrote a newline in a name as the two characters
    ``\\n`` and left a backslash as it is: a file ``a<newline>b`` and a file ``a\\nb`` had the
    same path, and a script could feed neither back to ``cat``."""
    (repo / "a\nb").write_text("newline\n")
    (repo / "a\\nb").write_text("backslash\n")
    gs(repo, "create")
    shown = {e["path"] for e in json.loads(gs(repo, "show", "1", "--json"))["entries"]}
    assert {"a\nb", "a\\nb"} <= shown, shown
    found = {f["path"] for f in json.loads(gs(repo, "find", "a*b", "--json"))}
    assert found == {"a\nb", "a\\nb"}, found
    assert gs(repo, "cat", "1", "a\nb") == "newline\n"
