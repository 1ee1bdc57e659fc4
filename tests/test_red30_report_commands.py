"""Red team (session 30): the restore commands reports print, and where reports live.

- A report for `git snapshot -C OTHER run -- ...` (or `git -C OTHER ...`) printed a restore
  command without -C: pasted where the user stood, it restored their own repository's
  snapshot of that number over their current work (redA 4).
- A lost file named `--`: the printed `restore 1 -- --` restored the whole snapshot (argparse
  drops a second `--`); `cat 1 -- --` was an internal error (redA 5).
- Loss logs were keyed by the worktree's path: a new repository at a deleted one's path showed
  its reports ("forgotten since", false), a moved one lost its own (redA 6, redC F3/F4).
- `run` printed its report on stdout, into the file the command's output went to (redA 8).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from conftest import committed_repo
from hookhelpers import commit
from hookhelpers import install
from hookhelpers import put_venv_on_path
from hookhelpers import write

from git_snapshot import gitrepo
from git_snapshot import losses
from git_snapshot import lossrecord
from git_snapshot import lossreport
from git_snapshot.store import Store


@pytest.fixture(autouse=True)
def _on_path(monkeypatch: pytest.MonkeyPatch) -> None:
    put_venv_on_path(monkeypatch)  # the printed commands are pasted into sh


def _restore_cmd(text: str) -> str:
    """The restore command of the one report line in *text*."""
    (line,) = [ln for ln in text.splitlines() if "restore with: " in ln]
    return line.split("restore with: ", 1)[1].rsplit(")", 1)[0]


def _paste(cwd: Path, cmd: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["sh", "-c", cmd], cwd=cwd, capture_output=True, text=True, check=True, timeout=120
    )


def _two_repositories(tmp_path: Path) -> tuple[Path, Path]:
    """X (the user's shell is here) holding work of its own in snapshot 1, and Y with an
    uncommitted edit of a.txt."""
    y = committed_repo(tmp_path / "Y")
    commit(y, "a.txt", b"y committed\n")
    write(y / "a.txt", b"Y UNCOMMITTED EDIT\n")
    x = committed_repo(tmp_path / "X")
    commit(x, "a.txt", b"x committed\n")
    write(x / "a.txt", b"x old\n")
    gs(x, "create")
    write(x / "a.txt", b"X CURRENT WORK\n")
    return x, y


# ------------------------------------------------------------------ A: -C where the user is


def test_run_with_dash_c_prints_a_restore_command_that_works_where_the_user_is(
    tmp_path: Path,
) -> None:
    x, y = _two_repositories(tmp_path)
    ran = gs(x, "-C", "../Y", "run", "--", "git", "checkout", "--", "a.txt")
    assert (y / "a.txt").read_bytes() == b"y committed\n"
    cmd = _restore_cmd(ran.err)
    assert cmd.startswith(f"git snapshot -C {y} restore "), cmd
    _paste(x, cmd)  # pasted where the user is
    assert (y / "a.txt").read_bytes() == b"Y UNCOMMITTED EDIT\n"
    assert (x / "a.txt").read_bytes() == b"X CURRENT WORK\n"  # the old command wrote "x old"


def test_run_from_inside_the_worktree_prints_paths_from_there_without_dash_c(repo: Path) -> None:
    commit(repo, "sub/f", b"committed\n")
    write(repo / "sub" / "f", b"edit\n")
    ran = gs(repo / "sub", "-C", "..", "run", "--", "git", "checkout", "--", "sub/f")
    cmd = _restore_cmd(ran.err)
    assert cmd == "git snapshot restore 1 f", cmd
    _paste(repo / "sub", cmd)
    assert (repo / "sub" / "f").read_bytes() == b"edit\n"


def test_a_shell_in_a_repository_nested_in_the_worktree_gets_dash_c(repo: Path) -> None:
    inner = committed_repo(repo / "inner")
    (repo / ".git" / "info" / "exclude").write_text("/inner/\n")
    commit(repo, "a.txt", b"committed\n")
    write(repo / "a.txt", b"edit\n")
    ran = gs(inner, "-C", "..", "run", "--", "git", "checkout", "--", "a.txt")
    cmd = _restore_cmd(ran.err)
    assert cmd.startswith(f"git snapshot -C {repo} restore "), cmd
    _paste(inner, cmd)
    assert (repo / "a.txt").read_bytes() == b"edit\n"


def test_report_lines_name_the_worktree_with_dash_c_for_a_directory_outside_it(
    repo: Path, tmp_path: Path
) -> None:
    """What the hook prints, given where the user's shell is (hooks._user_cwd)."""
    r = gitrepo.find_repo(str(repo))
    loss = losses.Loss(b"-x", "tracked", "modified")
    report = lossreport.Report("git checkout", 3, 0.0, True, [loss])
    (inside,) = report.lines(r, r.toplevel)
    assert inside.endswith("restore with: git snapshot restore 3 ./-x)"), inside
    (outside,) = report.lines(r, str(tmp_path))
    assert outside.endswith(f"restore with: git snapshot -C {repo} restore 3 ./-x)"), outside
    (in_git,) = report.lines(r, str(repo / ".git"))
    assert f"-C {repo} restore 3 ./-x)" in in_git


# ------------------------------------------------------------------ B: a path named '--'


def test_a_lost_file_named_dashdash_is_restored_alone_by_its_printed_command(repo: Path) -> None:
    write(repo / "--", b"file named --\n")
    commit(repo, "a.txt", b"committed\n")
    write(repo / "a.txt", b"edit 1\n")
    ran = gs(repo, "run", "--", "git", "clean", "-fdq")
    cmd = _restore_cmd(ran.err)
    assert cmd == "git snapshot restore 1 ./--", cmd
    write(repo / "a.txt", b"edit 2, after the snapshot\n")
    _paste(repo, cmd)
    assert (repo / "--").read_bytes() == b"file named --\n"
    assert (repo / "a.txt").read_bytes() == b"edit 2, after the snapshot\n"  # was "edit 1"


def test_dashdash_among_other_dash_names_is_restored_too(repo: Path) -> None:
    write(repo / "--", b"x\n")
    write(repo / "-n", b"y\n")
    ran = gs(repo, "run", "--", "git", "clean", "-fdq")
    cmd = _restore_cmd(ran.err)
    assert cmd == "git snapshot restore 1 ./-- ./-n", cmd
    _paste(repo, cmd)
    assert (repo / "--").read_bytes() == b"x\n"
    assert (repo / "-n").read_bytes() == b"y\n"


def test_commands_take_a_path_named_dashdash_after_dashdash(repo: Path) -> None:
    write(repo / "--", b"file named --\n")
    write(repo / "other", b"other\n")
    gs(repo, "create")
    ran = gs(repo, "cat", "1", "--", "--")
    assert ran.out == "file named --\n", ran  # was: internal error: AssertionError
    shown = gs(repo, "show", "1", "--", "--").out
    assert "--" in shown and "other" not in shown, shown
    (repo / "--").unlink()
    (repo / "other").unlink()
    gs(repo, "restore", "1", "--dry-run", "--", "--")  # was: unrecognized arguments: -- --
    assert not (repo / "--").exists()
    gs(repo, "restore", "1", "--", "--")
    assert (repo / "--").read_bytes() == b"file named --\n"
    assert not (repo / "other").exists()  # was: the whole snapshot restored
    ran = gs(repo, "cat", "1", "--", "--", "--", rc=2)
    assert "unrecognized arguments: --" in ran.err and "\\x00" not in ran.err, ran.err


# ------------------------------------------------------------------ D: run's report on stderr


def test_run_prints_its_report_on_stderr_not_into_the_commands_output(repo: Path) -> None:
    commit(repo, "a.txt", b"committed\n")
    write(repo / "a.txt", b"MY EDIT\n")
    ran = gs(repo, "run", "--", "git", "checkout", "--", "a.txt")
    assert ran.out == "", ran.out
    assert "destroyed 1 file with uncommitted edits: a.txt" in ran.err, ran.err
    write(repo / "a.txt", b"MY EDIT 2\n")
    ran = gs(repo, "run", "--json", "--", "git", "checkout", "--", "a.txt")
    assert json.loads(ran.out)["losses"]["lost"][0]["path"] == "a.txt"


# ------------------------------------------------------------------ C: logs follow identity


def _lose_untracked(r: Path, name: str = "u.txt") -> None:
    write(r / name, b"MINE\n")
    gs(r, "run", "--", "git", "clean", "-fdq")
    assert not (r / name).exists()


def test_a_new_repository_at_a_deleted_ones_path_does_not_show_its_reports(
    tmp_path: Path,
) -> None:
    p = committed_repo(tmp_path / "p")
    _lose_untracked(p, "old.txt")
    shutil.rmtree(p)
    committed_repo(p)
    ran = gs(p, "losses")
    assert "no loss reports for this worktree" in ran.out, ran.out
    assert "forgotten" not in ran.out
    ran = gs(p, "undo", "--dry-run", rc=1)
    assert "no loss report to undo" in ran.err and "no longer in the store" not in ran.err
    assert str(p) in gs(p, "list", "--all").out  # the old snapshot is still there
    _lose_untracked(p, "new.txt")  # the new repository's own report
    (item,) = json.loads(gs(p, "losses", "--json").out)
    assert item["lost"][0]["path"] == "new.txt" and item["available"], item


def test_a_moved_repository_keeps_its_reports_and_undo(tmp_path: Path) -> None:
    m = committed_repo(tmp_path / "m")
    _lose_untracked(m)
    moved = tmp_path / "moved"
    m.rename(moved)
    ran = gs(moved, "losses")
    assert "u.txt" in ran.out and "forgotten" not in ran.out, ran.out
    gs(moved, "undo")
    assert (moved / "u.txt").read_bytes() == b"MINE\n"
    # a new repository at the old path starts afresh
    committed_repo(m)
    assert "no loss reports" in gs(m, "losses").out


def test_a_copy_of_a_repository_does_not_share_its_reports(tmp_path: Path) -> None:
    a = committed_repo(tmp_path / "a")
    _lose_untracked(a)
    b = tmp_path / "b"
    shutil.copytree(a, b, symlinks=True)
    assert "no loss reports" in gs(b, "losses").out
    _lose_untracked(b, "v.txt")
    ((item_a,), (item_b,)) = (json.loads(gs(r, "losses", "--json").out) for r in (a, b))
    assert item_a["lost"][0]["path"] == "u.txt" and item_a["available"]
    assert item_b["lost"][0]["path"] == "v.txt" and item_b["available"]


def test_a_linked_worktree_keeps_its_own_reports(repo: Path, tmp_path: Path) -> None:
    wt = tmp_path / "wt"
    git(repo, "worktree", "add", "-q", str(wt))
    _lose_untracked(wt, "w.txt")
    assert "no loss reports" in gs(repo, "losses").out
    (item,) = json.loads(gs(wt, "losses", "--json").out)
    assert item["lost"][0]["path"] == "w.txt" and item["available"]


def _as_written_before(r: Path) -> None:
    """Move the worktree's loss log to the path-keyed file, as written before RED30."""
    found = gitrepo.find_repo(str(r))
    with Store() as store:
        new = Path(lossrecord._log_path(store, found))
        old = Path(lossrecord._path(store, found, ".jsonl"))
    assert new != old and new.exists() and not old.exists()
    lines = [json.loads(ln) for ln in new.read_text().splitlines()]
    for line in lines:
        line.pop("key")
    old.write_text("".join(json.dumps(line) + "\n" for line in lines))
    new.unlink()


def test_a_log_written_before_is_still_read_and_undone(repo: Path) -> None:
    _lose_untracked(repo)
    _as_written_before(repo)
    (item,) = json.loads(gs(repo, "losses", "--json").out)
    assert item["lost"][0]["path"] == "u.txt" and item["available"], item
    gs(repo, "undo")
    assert (repo / "u.txt").read_bytes() == b"MINE\n"
    assert "already undone" in gs(repo, "undo", rc=1).err


def test_a_log_written_before_is_not_a_new_repository_at_its_paths(tmp_path: Path) -> None:
    p = committed_repo(tmp_path / "p")
    _lose_untracked(p, "old.txt")
    _as_written_before(p)
    shutil.rmtree(p)
    committed_repo(p)
    gs(p, "create")  # the new repository's snapshot 1
    assert "no loss reports" in gs(p, "losses").out
    assert "no loss report to undo" in gs(p, "undo", rc=1).err


def test_a_log_written_before_follows_a_moved_repository(tmp_path: Path) -> None:
    m = committed_repo(tmp_path / "m")
    _lose_untracked(m)
    _as_written_before(m)
    moved = tmp_path / "moved"
    m.rename(moved)
    (item,) = json.loads(gs(moved, "losses", "--json").out)
    assert item["lost"][0]["path"] == "u.txt" and item["available"], item
    gs(moved, "undo")
    assert (moved / "u.txt").read_bytes() == b"MINE\n"
    assert "already undone" in gs(moved, "undo", rc=1).err


def test_a_log_written_before_and_read_once_here_follows_a_later_move(tmp_path: Path) -> None:
    m = committed_repo(tmp_path / "m")
    _lose_untracked(m)
    _as_written_before(m)
    assert "u.txt" in gs(m, "losses").out  # copied into the log that follows the repository
    moved = tmp_path / "moved"
    m.rename(moved)
    (item,) = json.loads(gs(moved, "losses", "--json").out)  # (no line twice)
    assert item["lost"][0]["path"] == "u.txt" and item["available"], item
    gs(moved, "undo")
    assert (moved / "u.txt").read_bytes() == b"MINE\n"


# ------------------------------------------------------------------ A: the hook's report


def test_a_hook_report_for_git_dash_c_works_pasted_where_the_user_is(tmp_path: Path) -> None:
    x, y = _two_repositories(tmp_path)
    install(y)
    gs(y, "create")
    ran = subprocess.run(
        ["sh", "-c", "git -C ../Y checkout -- a.txt; true"],
        cwd=x,
        capture_output=True,
        text=True,
        check=True,
    )
    assert (y / "a.txt").read_bytes() == b"y committed\n"
    cmd = _restore_cmd(ran.stderr)
    assert cmd.startswith(f"git snapshot -C {y} restore "), cmd
    _paste(x, cmd)
    assert (y / "a.txt").read_bytes() == b"Y UNCOMMITTED EDIT\n"
    assert (x / "a.txt").read_bytes() == b"X CURRENT WORK\n"


@pytest.mark.parametrize(
    ("argv", "away"),
    [
        (("git", "-C", "../Y", "checkout", "--", "a"), True),
        (("git", "-c", "x.y=1", "-C", "../Y", "checkout"), True),
        (("git", "--git-dir=../Y/.git", "--work-tree=../Y", "checkout"), True),
        (("git", "--work-tree", "../Y", "checkout"), True),
        (("git", "switch", "-C", "topic"), False),  # switch's own -C: a branch
        (("git", "-c", "x.y=1", "checkout", "main"), False),
        (("git", "checkout", "main"), False),
    ],
)
def test_a_git_command_pointed_elsewhere_is_told_apart(argv: tuple[str, ...], away: bool) -> None:
    from git_snapshot import proc

    assert proc.elsewhere(argv) is away


def test_a_stash_drop_guarded_with_dash_c_prints_a_command_that_works_where_the_user_is(
    tmp_path: Path,
) -> None:
    """`git snapshot -C ../Y run -- git stash drop` from X printed `restore 1 --to
    ../stash-0`: pasted in X, X's snapshot 1 (guards.report, RED30)."""
    x, y = _two_repositories(tmp_path)
    git(y, "stash", "-q")
    ran = gs(x, "-C", "../Y", "run", "--", "git", "stash", "drop")
    (line,) = [ln for ln in ran.err.splitlines() if "dropped stash@{0}" in ln]
    cmd = line.split("restore with: ", 1)[1]
    assert cmd.startswith(f"git snapshot -C {y} restore "), cmd
    _paste(x, cmd)
    assert (tmp_path / "stash-0" / "a.txt").read_bytes() == b"Y UNCOMMITTED EDIT\n"
    assert (x / "a.txt").read_bytes() == b"X CURRENT WORK\n"


def test_a_dropped_stash_entry_s_staged_version_is_saved_and_named(repo: Path) -> None:
    """A stash entry holds the index too (its second parent): a staged version other than the
    worktree's was saved nowhere by `run -- git stash drop`, whose line said the entry was
    saved (RED30, red team A 7). It goes into a second snapshot, named in the line."""
    commit(repo, "a.txt", b"committed\n")
    write(repo / "a.txt", b"STAGED VERSION\n")
    git(repo, "add", "a.txt")
    write(repo / "a.txt", b"WORKTREE VERSION\n")
    git(repo, "stash", "-q")
    ran = gs(repo, "run", "--", "git", "stash", "drop")
    (line,) = [ln for ln in ran.err.splitlines() if "dropped stash@{0}" in ln]
    assert "its staged versions in snapshot " in line, line
    staged = int(line.split("its staged versions in snapshot ", 1)[1].split(";", 1)[0])
    main = int(line.split("saved in snapshot ", 1)[1].split(",", 1)[0])
    assert gs(repo, "cat", str(main), "a.txt") == "WORKTREE VERSION\n"
    assert gs(repo, "cat", str(staged), "a.txt") == "STAGED VERSION\n"


def test_a_stash_entry_with_nothing_staged_apart_takes_one_snapshot(repo: Path) -> None:
    commit(repo, "a.txt", b"committed\n")
    write(repo / "a.txt", b"edit\n")
    git(repo, "stash", "-q")
    ran = gs(repo, "run", "--", "git", "stash", "drop")
    (line,) = [ln for ln in ran.err.splitlines() if "dropped stash@{0}" in ln]
    assert "staged" not in line, line


def test_two_reports_of_one_moment_are_two(repo: Path) -> None:
    """Two bursts the daemon ended together write two entries of the same time, snapshot and
    command; the reading that drops a migrated line's copy took them for one, and the second
    burst's files were named nowhere (tests/test_watch_unsettled.py's generated races)."""
    gs(repo, "create")
    r = gitrepo.find_repo(str(repo))
    base = {"time": 1.0e9, "when": "x", "command": "watcher: overwritten", "snapshot": 1}
    with Store() as store:
        for name in ("a", "b"):
            entry = {**base, "exact": True, "lost": [{"path": name}], "unsaved": [], "restore": []}
            lossrecord.append(store, r, entry)
        got = lossrecord.history(store, r)
    assert [e["lost"][0]["path"] for e in got] == ["a", "b"], got
