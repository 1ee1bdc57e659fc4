"""RED41 R2 F3, F5, F2: what a stopped operation's check (stopped.py, at the next hook or
git-snapshot command) compares, and how sure its report is.

F3: `git rebase --autostash` (or `merge --autostash`) stopped by a conflict; the autostash
commit is then pruned (`git gc --prune=now`: git 2.39 keeps no reachability from
`rebase-merge/autostash` or `MERGE_AUTOSTASH`), or the state folder is removed by hand (`rm
-fr .git/rebase-merge`, as git's own message advises). The `--abort` (or the next checkout)
cannot give the edit back: `error: cannot store ...`. The snapshot the operation began with
holds it, and no report named it: the check compared only the paths the operation's commits
touch. The note now keeps the paths the user had edited when it began (the autostash's; a
merge's the check finds in the store: stopped._edited), and it names those the worktree holds at
HEAD's version (git reset them and gave nothing back): not one the user edited or committed
again since.

F5: a merge stopped by a conflict; the user stages everything to mark the resolution (`git
add -u`: a dirty file the merge never touched is staged too), then `git merge --abort`
(reset --merge) sets that file back to HEAD. The same rule names it.

Both hedged ("an earlier version"): the user may have written the file again while the
operation was stopped. F2 (and F1's first half): an am or a rebase whose note is read here
stopped, or went on after a stop in which the user could write again what it destroyed
next: its report said "saved in snapshot N" (exact) and the restore wrote an older version,
with nothing saying so. A stopped merge writes nothing after its stop but its --abort: its
own report stays exact.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from clihelpers import Ran
from clihelpers import git
from clihelpers import gs
from clihelpers import run
from hookhelpers import commit
from hookhelpers import install
from hookhelpers import named_lost
from hookhelpers import put_venv_on_path
from hookhelpers import restore
from hookhelpers import side_commit
from hookhelpers import write

EDIT = b"MY DIRTY EDIT\n"
PENDING = ".git/git-snapshot-pending"


@pytest.fixture
def hooked(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """a.txt and b.txt committed; `topic` and `main` change a.txt each their way (a rebase of
    one onto the other, or a merge, stops there); b.txt neither touches. Hooks in, on main."""
    put_venv_on_path(monkeypatch)
    commit(repo, "b.txt", b"b\n")
    base = commit(repo, "a.txt", b"base\n")
    side_commit(repo, "topic", {"a.txt": b"topic\n"}, base=base)
    commit(repo, "a.txt", b"mainside\n")
    install(repo)
    return repo


def _snap_of(repo: Path, trigger: str) -> int:
    listed = json.loads(gs(repo, "list", "--json").out)
    (sid,) = [s["id"] for s in listed if s["trigger"] == trigger]
    return int(sid)


def _named_b(repo: Path, ran: Ran, what: str, snap: int) -> None:
    """*ran* printed one report: *what* destroyed b.txt (uncommitted), hedged, from *snap*;
    its restore command gives EDIT back."""
    (rep,) = ran.reports
    assert (rep.what, rep.names, rep.snap) == (what, "b.txt", snap), ran.err
    assert not rep.exact, rep  # the user could write it again while it was stopped
    restore(repo, rep)
    assert (repo / "b.txt").read_bytes() == EDIT


def _stopped_rebase(repo: Path) -> None:
    git(repo, "checkout", "-q", "topic")
    write(repo / "b.txt", EDIT)
    ran = git(repo, "rebase", "--autostash", "main", rc=None)
    assert ran.rc != 0 and (repo / ".git/rebase-merge/autostash").exists(), ran


@pytest.mark.parametrize("how", ["gc", "rm"])
def test_a_stopped_rebases_autostash_lost_is_named(hooked: Path, how: str) -> None:
    """F3: pruned, then `git rebase --abort`; or the state folder removed by hand, then
    `git checkout -f topic`. The next hook names b.txt from pre-rebase's snapshot."""
    _stopped_rebase(hooked)
    before = _snap_of(hooked, "pre-rebase")
    if how == "gc":
        git(hooked, "gc", "-q", "--prune=now")
        git(hooked, "rebase", "--abort", rc=None)  # error: cannot store <id>
        assert (hooked / "b.txt").read_bytes() == b"b\n"
        ran = git(hooked, "checkout", "-q", "-b", "next")
    else:
        run(hooked, "rm", "-rf", ".git/rebase-merge")
        ran = git(hooked, "checkout", "-q", "-f", "topic")
        assert (hooked / "b.txt").read_bytes() == b"b\n"
    _named_b(hooked, ran, "git rebase", before)
    assert named_lost(hooked) == ["b.txt"]  # once
    assert gs(hooked, "list").reports == []


def test_a_stopped_rebases_autostash_lost_under_run_is_named(hooked: Path) -> None:
    """F3 under `git snapshot run -- git rebase --abort`: run names what the abort destroyed
    (a.txt's conflict), and the rebase's check (after run's command) names b.txt."""
    _stopped_rebase(hooked)
    before = _snap_of(hooked, "pre-rebase")
    git(hooked, "gc", "-q", "--prune=now")
    ran = gs(hooked, "run", "--", "git", "rebase", "--abort", rc=None)
    (rep,) = [r for r in ran.reports if r.what == "git rebase"]
    assert (rep.names, rep.snap, rep.exact) == ("b.txt", before, False), ran.err
    assert "b.txt" not in [r.names for r in ran.reports if r.what != "git rebase"]
    restore(hooked, rep)
    assert (hooked / "b.txt").read_bytes() == EDIT


def test_a_stopped_merges_autostash_lost_is_named(hooked: Path) -> None:
    """F3, merge --autostash: its reference-transaction snapshot (before the autostash) holds
    the edit; MERGE_AUTOSTASH pruned, `git merge --abort` cannot apply it."""
    write(hooked / "b.txt", EDIT)
    stopped = git(hooked, "merge", "--autostash", "topic", rc=None)
    assert stopped.rc != 0 and (hooked / ".git/MERGE_AUTOSTASH").exists()
    assert (hooked / "b.txt").read_bytes() == b"b\n"
    git(hooked, "gc", "-q", "--prune=now")
    git(hooked, "merge", "--abort", rc=None)  # error: cannot store <id>
    assert (hooked / "b.txt").read_bytes() == b"b\n"
    ran = git(hooked, "checkout", "-q", "-b", "next")
    _named_b(hooked, ran, "git merge", _snap_of(hooked, "reference-transaction"))
    assert named_lost(hooked) == ["b.txt"]


@pytest.mark.parametrize("then", ["abort", "edit", "commit"])
def test_an_autostash_git_gave_back_is_not_named(hooked: Path, then: str) -> None:
    """Nothing pruned: the abort applies the autostash (b.txt is EDIT again). The user then
    leaves it, edits it again, or commits another version: none of it is the rebase's loss."""
    _stopped_rebase(hooked)
    git(hooked, "rebase", "--abort")
    assert (hooked / "b.txt").read_bytes() == EDIT
    if then == "edit":
        write(hooked / "b.txt", b"newer\n")
    elif then == "commit":
        commit(hooked, "b.txt", b"committed since\n")
    assert git(hooked, "checkout", "-q", "-b", "next").reports == []
    assert named_lost(hooked) == []


def _stopped_merge(repo: Path) -> None:
    """(No git-snapshot command until it ends: one would check the merge while stopped.)"""
    write(repo / "b.txt", EDIT)  # dirty before the merge, which allows it (b.txt untouched)
    stopped = git(repo, "merge", "topic", rc=None)
    assert stopped.rc != 0 and (repo / ".git/MERGE_HEAD").exists()


def test_a_staged_edit_a_merge_abort_resets_is_named(hooked: Path) -> None:
    """F5: resolve, `git add -u` (b.txt staged too), `git merge --abort`: b.txt is HEAD's
    again; the next hook names it from the merge's snapshot."""
    _stopped_merge(hooked)
    write(hooked / "a.txt", b"resolved\n")
    git(hooked, "add", "-u")
    git(hooked, "merge", "--abort")
    assert (hooked / "b.txt").read_bytes() == b"b\n"
    (hooked / "sub").mkdir()
    ran = run(hooked / "sub", "git", "checkout", "-q", "-b", "next")
    (rep,) = ran.reports
    before = _snap_of(hooked, "reference-transaction")
    what = "git merge (its --abort, or a command run while it was stopped)"  # (fixK, s42)
    assert (rep.what, rep.names, rep.snap, rep.exact) == (what, "../b.txt", before, False)
    restore(hooked / "sub", rep)
    assert (hooked / "b.txt").read_bytes() == EDIT
    assert named_lost(hooked) == ["b.txt"]


@pytest.mark.parametrize("then", ["abort", "commit"])
def test_an_edit_a_stopped_merge_kept_is_not_named(hooked: Path, then: str) -> None:
    """An unstaged edit survives `merge --abort`; one committed with the merge is in HEAD."""
    _stopped_merge(hooked)
    write(hooked / "a.txt", b"resolved\n")
    if then == "abort":
        git(hooked, "add", "a.txt")
        git(hooked, "merge", "--abort")
        assert (hooked / "b.txt").read_bytes() == EDIT
    else:
        git(hooked, "add", "-u")
        git(hooked, "commit", "-q", "--no-edit")
    assert git(hooked, "checkout", "-q", "-b", "next").reports == []
    assert named_lost(hooked) == []


def test_a_stopped_merges_own_loss_stays_exact(hooked: Path) -> None:
    """What the merge itself wrote over (an ignored file topic tracks) is named exact, as
    before: nothing of the merge's writes after its stop but the abort's reset."""
    commit(hooked, ".gitignore", b"*.log\n")
    side_commit(hooked, "logs", {"x.log": b"from logs\n", "a.txt": b"logs\n"}, base="HEAD~2")
    write(hooked / "x.log", b"MY LOG\n")
    assert git(hooked, "merge", "logs", rc=None).rc != 0
    git(hooked, "merge", "--abort")
    (rep,) = gs(hooked, "list").reports
    assert (rep.what, rep.names, rep.exact) == ("git merge", "x.log", True), rep


SECRET = b"MY SECRET\n"
DURING = b"EDITED DURING THE STOP\n"


def test_a_stopped_am_is_named_as_an_earlier_version(hooked: Path, tmp_path: Path) -> None:
    """F2: `git am -3` of two patches stops on the first (a.txt); the second adds the ignored
    x.log. During the stop the user resolves a.txt and writes DURING into x.log; `git am
    --continue` writes the patch's x.log over it. The am's snapshot holds SECRET, older than
    what was lost: the report says so."""
    git(hooked, "checkout", "-q", "topic")
    commit(hooked, "x.log", b"from patch\n", force=True)
    patches = tmp_path / "patches"
    git(hooked, "format-patch", "-q", "-2", "-o", str(patches))
    git(hooked, "checkout", "-q", "main")
    commit(hooked, ".gitignore", b"*.log\n")
    write(hooked / "x.log", SECRET)
    files = sorted(str(p) for p in patches.iterdir())
    git(hooked, "am", "-q", "-3", *files, rc=None)
    assert (hooked / ".git/rebase-apply").is_dir()
    write(hooked / "a.txt", b"resolved\n")
    git(hooked, "add", "a.txt")
    write(hooked / "x.log", DURING)
    git(hooked, "am", "--continue")
    assert (hooked / "x.log").read_bytes() == b"from patch\n"
    (rep,) = gs(hooked, "list").reports
    assert (rep.what, rep.names, rep.exact) == ("git am", "x.log", False), rep
    restore(hooked, rep)
    assert (hooked / "x.log").read_bytes() == SECRET  # an earlier version, as it says


@pytest.mark.parametrize("how", ["file", "forced"])
def test_an_edit_the_next_command_discards_is_that_commands_loss(hooked: Path, how: str) -> None:
    """The abort kept b.txt's edit (unstaged); the next command discards it itself (`git
    checkout -- b.txt`, `git checkout -f -b next`): its own report names it, once, as its
    loss; the merge's check, which that hook runs first, does not take it for the merge's."""
    _stopped_merge(hooked)
    write(hooked / "a.txt", b"resolved\n")
    git(hooked, "add", "a.txt")
    git(hooked, "merge", "--abort")
    assert (hooked / "b.txt").read_bytes() == EDIT
    args = ["--", "b.txt"] if how == "file" else ["-f", "-b", "next"]
    ran = git(hooked, "checkout", "-q", *args)
    assert (hooked / "b.txt").read_bytes() == b"b\n"
    assert [(r.what, r.names) for r in ran.reports] == [("git checkout", "b.txt")], ran.err
    assert named_lost(hooked) == ["b.txt"]
