"""`git am`, `git cherry-pick` and `git revert` write over an ignored file that the commit they
bring in tracks (.env), as merge does, with no word from git.

`git am` moves ORIG_HEAD before it touches the worktree (reference-transaction ``prepared``,
GIT_REFLOG_ACTION unset, ``rebase-apply/applying`` already in the git dir): the shim takes its
snapshot there, as for a merge, and the next hook or git-snapshot command reports what the am
destroyed (stopped.py: no hook of ours runs after an am). Cherry-pick and revert move nothing
before the worktree: only `git snapshot run` guards them (README)."""

from __future__ import annotations

from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from hookhelpers import COMMITTED
from hookhelpers import SECRET
from hookhelpers import commit
from hookhelpers import env_report
from hookhelpers import install
from hookhelpers import put_venv_on_path
from hookhelpers import restore_env
from hookhelpers import side_commit
from hookhelpers import triggers
from hookhelpers import write


@pytest.fixture
def work(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository ignoring .env (holding SECRET), hooks installed, and a branch `side`
    whose commit tracks .env (COMMITTED) and changes c.txt."""
    put_venv_on_path(monkeypatch)
    commit(repo, ".gitignore", b".env\n")
    commit(repo, "c.txt", b"base\n")
    side_commit(repo, "side", {".env": COMMITTED, "c.txt": b"theirs\n"})
    install(repo)
    write(repo / ".env", SECRET)
    return repo


def _patch(repo: Path, tmp_path: Path) -> Path:
    out = tmp_path / "side.patch"
    out.write_text(git(repo, "format-patch", "-1", "--stdout", "side").out)
    return out


def test_git_am_over_an_ignored_file_is_reported(work: Path, tmp_path: Path) -> None:
    am = git(work, "am", "-q", "-3", str(_patch(work, tmp_path)))
    assert am.reports == []  # no hook of ours runs after an am
    assert (work / ".env").read_bytes() == COMMITTED
    rep = env_report(gs(work, "list"), "git am")
    # taken right before the am, but whether the am stopped (and went on after the user
    # wrote the file again) is not known once it is over: "an earlier version" (RED41 R2 F2)
    assert not rep.exact
    restore_env(work, rep)
    assert gs(work, "list").reports == []  # reported once


def test_git_am_in_a_linked_worktree(work: Path, tmp_path: Path) -> None:
    """A linked worktree's .git is a file naming its git dir: the shim reads it."""
    patch = _patch(work, tmp_path)
    linked = tmp_path / "linked"
    git(work, "worktree", "add", "-q", str(linked), "-b", "linked")
    write(linked / ".env", SECRET)
    git(linked, "am", "-q", "-3", str(patch))
    restore_env(linked, env_report(gs(linked, "list"), "git am"))


def test_git_am_stopped_by_a_conflict_reports_once_it_is_done(work: Path, tmp_path: Path) -> None:
    commit(work, "c.txt", b"mine\n")
    stopped = git(work, "am", "-q", "-3", str(_patch(work, tmp_path)), rc=None)
    assert stopped.rc != 0
    assert gs(work, "list").reports == []  # mid-way: the am is not over
    write(work / "c.txt", b"resolved\n")
    git(work, "add", "c.txt")
    git(work, "am", "--continue")
    restore_env(work, env_report(gs(work, "list"), "git am"))


def test_git_am_stopped_then_aborted_is_reported(work: Path, tmp_path: Path) -> None:
    """--abort puts HEAD back where it was: what the am overwrote is found from its patches'
    paths (noted by the pre-hook), not from the commits between."""
    commit(work, "c.txt", b"mine\n")
    git(work, "am", "-q", "-3", str(_patch(work, tmp_path)), rc=None)
    assert (work / ".env").read_bytes() == COMMITTED
    git(work, "am", "--abort")
    assert not (work / ".env").exists()
    restore_env(work, env_report(gs(work, "list"), "git am"))


def test_a_reset_takes_no_snapshot(work: Path) -> None:
    """`git reset` moves ORIG_HEAD too (after the worktree, GIT_REFLOG_ACTION unset): the shim
    lets it go without a snapshot."""
    gs(work)
    before = triggers(work)
    git(work, "reset", "-q", "--hard", "HEAD~1")
    assert triggers(work) == before


@pytest.mark.parametrize(
    "cmd", [["cherry-pick", "side"], ["rebase", "-q", "--apply", "side"], ["reset", "-q", "side"]]
)
def test_only_an_am_takes_the_am_path(work: Path, cmd: list[str]) -> None:
    """A rebase's am (rebase-apply/rebasing), a cherry-pick and a reset move ORIG_HEAD or
    HEAD with GIT_REFLOG_ACTION unset or their own: no reference-transaction snapshot."""
    (work / ".env").unlink()
    commit(work, "mine.txt", b"mine\n")
    write(work / "notes.txt", b"new since the last snapshot\n")  # a snapshot would be new
    git(work, *cmd)
    assert "reference-transaction" not in triggers(work)


@pytest.mark.parametrize("cmd", [["cherry-pick", "side"], ["revert", "--no-edit", "HEAD"]])
def test_run_guards_cherry_pick_and_revert(work: Path, cmd: list[str]) -> None:
    if cmd[0] == "revert":  # a commit that stops tracking .env, reverted: .env comes back
        git(work, "cherry-pick", "side")
        git(work, "rm", "-q", "--cached", ".env")
        git(work, "commit", "-q", "-m", "untrack .env")
        write(work / ".env", SECRET)
    ran = gs(work, "run", "--", "git", *cmd)
    assert (work / ".env").read_bytes() == COMMITTED
    restore_env(work, env_report(ran, f"git {' '.join(cmd)}"))


def test_am_paths_names_what_the_patches_write(work: Path, tmp_path: Path) -> None:
    from git_snapshot import gitrepo

    git(work, "mv", "c.txt", "new\tname.txt")
    git(work, "commit", "-q", "-m", "rename")
    mail = git(work, "format-patch", "-1", "-M", "--stdout", "HEAD").out
    folder = work / ".git" / "rebase-apply"
    folder.mkdir()
    (folder / "0001").write_text(mail)
    (folder / "0002").write_text(git(work, "format-patch", "-1", "--stdout", "side").out)
    (folder / "applying").touch()
    paths = gitrepo.am_paths(gitrepo.find_repo(str(work)))
    assert sorted(paths) == [b".env", b"c.txt", b"new\tname.txt"], paths  # a rename: its new name


def test_a_failed_snapshot_stops_the_am_and_says_how_to_go_on(work: Path, tmp_path: Path) -> None:
    not_a_store = tmp_path / "not-a-store"
    not_a_store.write_bytes(b"")
    ran = git(
        work, "am", "-q", str(_patch(work, tmp_path)), rc=None, GIT_SNAPSHOT_STORE=str(not_a_store)
    )
    assert ran.rc != 0
    (line,) = ran.ours
    assert "before the am," in line and "git am --abort" in line, line
    assert (work / ".env").read_bytes() == SECRET  # untouched
    git(work, "am", "--abort")
    git(work, "am", "-q", "-3", str(_patch(work, tmp_path)), GIT_SNAPSHOT_SKIP="1")
