"""Loss reports end to end (issue 8): real git, the shims `git snapshot install` puts in place.

No false alarms (content git can give back is never reported), no silent misses (every path the
operation wrote is compared), the saved copy's age when it is older than what was lost, one
line per git command, the command the user ran, and the kept reports (`losses`, `undo`).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from hookhelpers import commit
from hookhelpers import install
from hookhelpers import put_venv_on_path
from hookhelpers import restore
from hookhelpers import side_commit
from hookhelpers import write


@pytest.fixture
def hooked(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    put_venv_on_path(monkeypatch)
    commit(repo, ".gitignore", b".env\nbuild/\n")
    commit(repo, "a.txt", b"committed a\n")
    commit(repo, "b.txt", b"committed b\n")
    install(repo)
    return repo


# --------------------------------------------------------------------------- no false alarms


def _edit_branch_commit(r: Path) -> None:
    """Edit b.txt, `checkout -b wip` (a snapshot holds the edit), `commit -am E`."""
    write(r / "b.txt", b"edit b\n")
    git(r, "checkout", "-q", "-b", "wip")
    git(r, "commit", "-q", "-am", "E")


@pytest.mark.parametrize("op", ["merge", "checkout"])
def test_committed_edit_is_not_reported_after_merge_or_checkout(hooked: Path, op: str) -> None:
    r = hooked
    side_commit(r, "feature", {"a.txt": b"feature a\n"}, base="main")
    _edit_branch_commit(r)
    ran = git(r, op, *(["--no-edit"] if op == "merge" else []), "feature")
    assert ran.reports == [], ran.said
    assert (r / "b.txt").read_bytes() == (b"edit b\n" if op == "merge" else b"committed b\n")


def test_committed_edit_is_not_reported_after_pull(hooked: Path, tmp_path: Path) -> None:
    up = hooked
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(up), str(clone))
    install(clone)
    commit(up, "a.txt", b"upstream a\n")
    write(clone / "b.txt", b"edit b\n")
    git(clone, "checkout", "-q", "-b", "wip")
    git(clone, "commit", "-q", "-am", "E")
    ran = git(clone, "pull", "-q", "--no-rebase", "--no-edit", "origin", "main")
    assert ran.reports == [], ran.said
    assert (clone / "a.txt").read_bytes() == b"upstream a\n"


def test_stash_push_then_restore_reports_nothing(hooked: Path) -> None:
    r = hooked
    write(r / "a.txt", b"edit a\n")
    write(r / "b.txt", b"edit b\n")
    gs(r, "create")
    git(r, "stash", "push", "-q", "a.txt")
    ran = git(r, "restore", "b.txt")
    # a.txt is safe in the stash; b.txt is lost and is the one named
    (rep,) = ran.reports
    assert rep.names == "b.txt" and rep.what == "git restore"


def test_run_stash_u_reports_nothing(hooked: Path) -> None:
    r = hooked
    write(r / "a.txt", b"edit a\n")
    write(r / "notes.txt", b"untracked\n")
    ran = gs(r, "run", "--", "git", "stash", "-u")
    assert ran.reports == [] and not (r / "notes.txt").exists(), ran.said


def test_run_merge_abort_does_not_name_the_merged_branch_file(hooked: Path) -> None:
    r = hooked
    side_commit(r, "feature", {"a.txt": b"feature a\n", "c.txt": b"feature c\n"})
    commit(r, "a.txt", b"main a\n")
    git(r, "merge", "feature", rc=1)  # conflict on a.txt; c.txt comes from feature
    write(r / "a.txt", b"hand resolution\n")
    ran = gs(r, "run", "--", "git", "merge", "--abort")
    (rep,) = ran.reports  # the hand resolution, and only it
    assert rep.names == "a.txt" and rep.exact
    assert not (r / "c.txt").exists()


# --------------------------------------------------------------------------- no silent misses


@pytest.mark.parametrize(
    "cmd",
    [["checkout", "-f", "feature"], ["switch", "--discard-changes", "feature"]],
)
def test_forced_branch_switch_names_every_discarded_edit(hooked: Path, cmd: list[str]) -> None:
    r = hooked
    side_commit(r, "feature", {"a.txt": b"feature a\n"})
    write(r / "a.txt", b"edit a\n")
    write(r / "b.txt", b"edit b\n")
    gs(r, "create")
    ran = git(r, *cmd)
    (rep,) = ran.reports
    assert rep.names == "a.txt, b.txt" and rep.what == f"git {cmd[0]}"
    restore(r, rep)
    assert (r / "a.txt").read_bytes() == b"edit a\n"
    assert (r / "b.txt").read_bytes() == b"edit b\n"


def test_checkout_f_without_a_branch_names_the_discarded_edit(hooked: Path) -> None:
    r = hooked
    write(r / "b.txt", b"edit b\n")
    gs(r, "create")
    ran = git(r, "checkout", "-f")
    (rep,) = ran.reports
    assert rep.names == "b.txt"


def test_restore_from_another_commit_names_the_overwritten_edit(hooked: Path) -> None:
    r = hooked
    side_commit(r, "feature", {"a.txt": b"feature a\n"})
    write(r / "a.txt", b"edit a\n")
    gs(r, "create")
    ran = git(r, "restore", "--source", "feature", "a.txt")
    assert (r / "a.txt").read_bytes() == b"feature a\n"
    (rep,) = ran.reports
    assert rep.names == "a.txt" and rep.what == "git restore"


# --------------------------------------------------------------------------- age of the copy


def test_an_older_saved_copy_is_called_an_earlier_version(hooked: Path) -> None:
    r = hooked
    write(r / "a.txt", b"first edit\n")
    gs(r, "create")
    write(r / "a.txt", b"second edit, never saved\n")
    ran = git(r, "checkout", "--", "a.txt")
    (line,) = [ln for ln in ran.said if "destroyed" in ln]
    assert "an earlier version, saved" in line and "later edits, if any, were not saved" in line
    (rep,) = ran.reports
    assert not rep.exact


def test_a_copy_taken_right_before_is_exact(hooked: Path) -> None:
    r = hooked
    side_commit(r, "feature", {".env": b"from the branch\n"})
    write(r / ".env", b"SECRET\n")
    ran = git(r, "merge", "-q", "feature")
    (rep,) = ran.reports
    assert rep.exact and rep.names == ".env"


def test_run_names_what_it_did_not_save(hooked: Path) -> None:
    r = hooked
    git(r, "config", "snapshot.exclude", "build/")
    write(r / "build" / "out.bin", b"x")
    ran = gs(r, "run", "--", "git", "clean", "-fdxq")
    assert any(
        ln == "git-snapshot: not saved: build/out.bin, excluded by snapshot.exclude"
        or ln.startswith("git-snapshot: not saved: build")
        for ln in ran.said
    ), ran.said


def test_hook_names_what_git_destroyed_that_no_snapshot_saved(hooked: Path) -> None:
    """An ignored file the snapshot left out (snapshot.exclude) that the merge overwrote:
    the hook's report says it is lost unsaved, as run's does, never nothing."""
    r = hooked
    git(r, "config", "snapshot.exclude", ".env")
    side_commit(r, "feature", {".env": b"from the branch\n", "a.txt": b"feature a\n"})
    write(r / ".env", b"SECRET\n")
    write(r / "b.txt", b"edit b\n")  # saved: the report names it as usual
    gs(r, "create")
    ran = git(r, "merge", "-q", "--no-edit", "feature")
    assert (r / ".env").read_bytes() == b"from the branch\n"
    assert "git-snapshot: not saved: .env, excluded by snapshot.exclude" in ran.said, ran.said


# --------------------------------------------------------------------------- quiet, once


def test_three_way_merge_with_nothing_lost_prints_one_line(hooked: Path) -> None:
    r = hooked
    side_commit(r, "feature", {"c.txt": b"c\n"})
    commit(r, "d.txt", b"d\n")
    ran = git(r, "merge", "--no-edit", "feature")
    assert len(ran.ours) == 1, ran.ours
    git(r, "config", "snapshot.quiet", "true")
    side_commit(r, "f2", {"e.txt": b"e\n"})
    commit(r, "g.txt", b"g\n")
    ran = git(r, "merge", "--no-edit", "f2")
    assert ran.ours == []


def test_run_reports_a_loss_once(hooked: Path) -> None:
    r = hooked
    side_commit(r, "feature", {".env": b"from the branch\n"})
    write(r / ".env", b"SECRET\n")
    ran = gs(r, "run", "--", "git", "checkout", "-q", "feature")
    (rep,) = ran.reports
    assert rep.names == ".env" and rep.exact


def test_long_reports_fold_by_folder(hooked: Path) -> None:
    r = hooked
    commit(r, ".gitignore", b".env\nbuild/\nnode_modules/\n")
    for i in range(30):
        write(r / "node_modules" / f"m{i}.js", b"%d\n" % i)
    ran = gs(r, "run", "--", "rm", "-rf", "node_modules")
    (line,) = [ln for ln in ran.said if "destroyed" in ln]
    assert "node_modules/ (30 files)" in line


# --------------------------------------------------------------------------- losses, undo


def test_losses_lists_reports_and_undo_restores_the_latest(hooked: Path) -> None:
    r = hooked
    write(r / "a.txt", b"edit a\n")
    gs(r, "run", "--", "git", "checkout", "--", "a.txt")
    items = json.loads(gs(r, "losses", "--json").out)
    (item,) = items
    assert item["command"] == "git checkout -- a.txt"
    assert [x["path"] for x in item["lost"]] == ["a.txt"] and item["exact"]
    assert "a.txt" in gs(r, "losses").out
    dry = gs(r, "undo", "--dry-run")
    assert "a.txt" in dry.out and (r / "a.txt").read_bytes() == b"committed a\n"
    gs(r, "undo")
    assert (r / "a.txt").read_bytes() == b"edit a\n"


def test_undo_without_a_report_says_so(hooked: Path) -> None:
    ran = gs(hooked, "undo", rc=1)
    assert "no loss report" in ran.err and len(ran.err_lines) == 1
