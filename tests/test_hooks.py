"""The hooks end to end: real git, the shims put in place by the real ``git snapshot install``,
the real ``git-snapshot`` on PATH. Each data-loss scenario checks that the data is in the right
snapshot byte for byte, that the report on stderr names the file, that snapshot and a restore
command, and that running that command brings the file back.
"""

from __future__ import annotations

import os
import re
import sqlite3
import stat
from pathlib import Path
from typing import Any

import pytest
from clihelpers import Ran
from clihelpers import git
from clihelpers import gs
from clihelpers import run
from hookhelpers import COMMITTED
from hookhelpers import SECRET
from hookhelpers import by_id
from hookhelpers import commit
from hookhelpers import env_report
from hookhelpers import file_state
from hookhelpers import head
from hookhelpers import install
from hookhelpers import put_venv_on_path
from hookhelpers import restore
from hookhelpers import restore_env
from hookhelpers import saved
from hookhelpers import side_commit
from hookhelpers import snaps
from hookhelpers import triggers
from hookhelpers import worktree_state
from hookhelpers import write

from git_snapshot.store import location

SNAP_LINE = re.compile(r"^git-snapshot: snapshot (\d+) \(([a-z-]+)\): \d+ files, \+")


def snap_lines(lines: list[str]) -> list[tuple[int, str]]:
    """(id, hook) of every 'snapshot N (hook)' line."""
    out = []
    for line in lines:
        m = SNAP_LINE.match(line)
        if m:
            out.append((int(m.group(1)), m.group(2)))
    return out


@pytest.fixture
def hooked(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The conftest repo, ignoring .env, with the hooks installed by `git snapshot install`."""
    put_venv_on_path(monkeypatch)
    commit(repo, ".gitignore", b".env\n")
    commit(repo, "sub/keep.txt", b"keep\n")
    install(repo)
    return repo


def _lost_env(r: Path, tmp_path: Path, snap: int) -> None:
    """.env was overwritten, and snapshot *snap* holds what was there byte for byte."""
    assert (r / ".env").read_bytes() == COMMITTED
    assert saved(r, snap, tmp_path)[".env"] == SECRET


def _env_loss(ran: Ran, r: Path, tmp_path: Path, what: str, trigger: str) -> dict[str, Any]:
    """*what* overwrote .env: its one report names the snapshot, taken by *trigger*, that holds
    .env byte for byte, and the restore command it printed brings .env back. Returns that
    snapshot (as ``list --json`` shows it)."""
    rep = env_report(ran, what)
    snap = by_id(r, rep.snap)
    assert snap["trigger"] == trigger
    _lost_env(r, tmp_path, rep.snap)
    restore_env(r, rep)
    return snap


# --------------------------------------------------------------------------- merges and pulls


def test_fast_forward_merge_over_an_ignored_file(hooked: Path, tmp_path: Path) -> None:
    r = hooked
    side_commit(r, "feature", {".env": COMMITTED})
    write(r / ".env", SECRET, 0o600)
    old = head(r)

    ran = git(r, "merge", "feature")
    rep = env_report(ran, "git merge")
    assert rep.kinds == "1 ignored file"
    snap = by_id(r, rep.snap)
    # taken by reference-transaction BEFORE the merge touched anything
    assert snap["trigger"] == "reference-transaction" and snap["head"] == old
    _lost_env(r, tmp_path, rep.snap)
    assert rep.command == ["git", "snapshot", "restore", str(rep.snap), ".env"]
    # one line per hook, then the report
    # a loss: the report is the one line (pre-hooks print nothing)
    assert len(ran.ours) == 1 and ran.ours[0].startswith("git-snapshot: git merge destroyed")

    restore(r, rep)
    assert file_state(r / ".env") == (SECRET, 0o600)


def test_three_way_merge_over_an_ignored_file(hooked: Path, tmp_path: Path) -> None:
    """pre-merge-commit runs after the merge wrote the worktree: the report must come from the
    reference-transaction snapshot, not from the later pre-merge-commit one."""
    r = hooked
    side_commit(r, "feature", {".env": COMMITTED, "f.txt": b"f\n"})
    commit(r, "m.txt", b"m\n")
    write(r / ".env", SECRET)
    old = head(r)

    ran = git(r, "merge", "--no-edit", "feature")
    assert head(r) != old and (r / "f.txt").exists()
    assert triggers(r) == ["reference-transaction", "pre-merge-commit"]
    _env_loss(ran, r, tmp_path, "git merge", "reference-transaction")


def test_squash_merge_over_an_ignored_file(hooked: Path, tmp_path: Path) -> None:
    """A squash merge moves no ref: what it wrote is what it staged."""
    r = hooked
    side_commit(r, "feature", {".env": COMMITTED})
    commit(r, "m.txt", b"m\n")
    write(r / ".env", SECRET)
    ran = git(r, "merge", "--squash", "feature")
    (rep,) = ran.reports
    assert rep.names == ".env" and by_id(r, rep.snap)["trigger"] == "reference-transaction"
    _lost_env(r, tmp_path, rep.snap)


def test_merge_run_from_a_subdirectory_reports_paths_from_there(
    hooked: Path, tmp_path: Path
) -> None:
    """Hooks run in the worktree root; the restore command must work where the user is."""
    r = hooked
    side_commit(r, "feature", {".env": COMMITTED})
    write(r / ".env", SECRET)
    ran = git(r / "sub", "merge", "feature")
    (rep,) = ran.reports
    assert rep.names == "../.env"
    restore_env(r, rep, cwd=r / "sub")


@pytest.fixture
def clone(repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A clone of the conftest repo (its "remote"), ignoring .env, with the hooks installed."""
    put_venv_on_path(monkeypatch)
    commit(repo, ".gitignore", b".env\n")
    work = tmp_path / "work"
    git(tmp_path, "clone", "-q", str(repo), str(work))
    install(work)
    return work


def test_pull_over_an_ignored_file(repo: Path, clone: Path, tmp_path: Path) -> None:
    commit(repo, ".env", COMMITTED, force=True)
    write(clone / ".env", SECRET)
    ran = git(clone, "pull", "-q", "--ff-only")
    _env_loss(ran, clone, tmp_path, "git pull", "reference-transaction")


def test_pull_rebase_over_an_ignored_file(repo: Path, clone: Path, tmp_path: Path) -> None:
    commit(clone, "local.txt", b"mine\n")
    commit(repo, ".env", COMMITTED, force=True)
    write(clone / ".env", SECRET)
    ran = git(clone, "pull", "-q", "--rebase")
    assert (clone / "local.txt").exists()
    assert triggers(clone) == ["pre-rebase", "post-rewrite"]
    _env_loss(ran, clone, tmp_path, "git pull", "pre-rebase")


# --------------------------------------------------------------------------- rebase, checkout


def test_rebase_over_an_ignored_file(hooked: Path, tmp_path: Path) -> None:
    r = hooked
    side_commit(r, "feature", {".env": COMMITTED})
    commit(r, "mine.txt", b"mine\n")
    write(r / ".env", SECRET)
    old = head(r)

    ran = git(r, "rebase", "feature")
    # no duplicate work: the post-checkout and reference-transaction inside the rebase are
    # skipped; pre-rebase before, post-rewrite after, one line each
    assert triggers(r) == ["pre-rebase", "post-rewrite"]
    assert len(ran.ours) == 1 and ran.reports
    snap = _env_loss(ran, r, tmp_path, "git rebase", "pre-rebase")
    assert snap["head"] == old


def test_branch_checkout_over_an_ignored_file(hooked: Path, tmp_path: Path) -> None:
    """No hook runs before a checkout: the loss is reported against the latest earlier
    snapshot, here one taken by hand."""
    r = hooked
    side_commit(r, "feature", {".env": COMMITTED})
    write(r / ".env", SECRET)
    manual = int(re.findall(r"snapshot (\d+)", gs(r, "create", "-m", "by hand").out)[0])

    ran = git(r, "checkout", "-q", "feature")
    rep = env_report(ran, "git checkout")
    assert (rep.kinds, rep.snap) == ("1 ignored file", manual)
    assert triggers(r) == ["manual", "post-checkout"]
    _lost_env(r, tmp_path, manual)
    restore_env(r, rep)


def test_branch_checkout_with_no_earlier_snapshot_reports_nothing(hooked: Path) -> None:
    r = hooked
    side_commit(r, "feature", {".env": COMMITTED})
    write(r / ".env", SECRET)
    ran = git(r, "checkout", "-q", "feature")
    assert ran.reports == [] and [h for _, h in snap_lines(ran.ours)] == ["post-checkout"]


# --------------------------------------------------------------------------- file checkout


def _dirty_pair(r: Path) -> int:
    """a.txt and b.txt committed, both edited, a snapshot taken by hand; returns its id."""
    commit(r, "a.txt", b"committed a\n")
    commit(r, "b.txt", b"committed b\n")
    write(r / "a.txt", b"edit a\n")
    write(r / "b.txt", b"edit b, first\n")
    return int(re.findall(r"snapshot (\d+)", gs(r, "create").out)[0])


@pytest.mark.parametrize("cmd", [["checkout", "--", "a.txt"], ["restore", "a.txt"]])
def test_file_checkout_reports_the_discarded_edit(
    hooked: Path, tmp_path: Path, cmd: list[str]
) -> None:
    r = hooked
    manual = _dirty_pair(r)
    write(r / "b.txt", b"edit b, further\n")  # edited further, not discarded: no report

    ran = git(r, *cmd)
    assert (r / "a.txt").read_bytes() == b"committed a\n"
    (rep,) = ran.reports
    assert (rep.what, rep.kinds, rep.names, rep.snap) == (
        f"git {cmd[0]}",  # the command the user ran
        "1 file with uncommitted edits",
        "a.txt",
        manual,
    )
    assert saved(r, manual, tmp_path)["a.txt"] == b"edit a\n"
    restore(r, rep)
    assert (r / "a.txt").read_bytes() == b"edit a\n"
    assert (r / "b.txt").read_bytes() == b"edit b, further\n"


def test_file_checkout_of_several_files(hooked: Path) -> None:
    r = hooked
    manual = _dirty_pair(r)
    ran = git(r, "checkout", "--", ".")
    (rep,) = ran.reports
    assert (rep.kinds, rep.names, rep.snap) == (
        "2 files with uncommitted edits",
        "a.txt, b.txt",
        manual,
    )
    restore(r, rep)
    assert (r / "a.txt").read_bytes() == b"edit a\n"
    assert (r / "b.txt").read_bytes() == b"edit b, first\n"


def test_a_file_git_wrote_counts_though_its_mtime_reads_before_git_started(repo: Path) -> None:
    """The kernel stamps mtimes from its coarse clock, a tick (HZ=100: 10 ms) or more behind:
    a file `git checkout -- .` wrote 1 ms after it started can read as written before. CI
    saw a.txt, the first file git wrote, read 5+ ms early and left out of the report
    ("1 file ...: b.txt" for a.txt and b.txt). A start time up to two such ticks after the
    mtime still counts the file as written by the operation; one half a second after does not
    (the user's own revert, before the command)."""
    from git_snapshot import gitrepo
    from git_snapshot import gitwrote

    commit(repo, "a.txt", b"committed a\n")
    write(repo / "a.txt", b"edit a\n")
    git(repo, "checkout", "--", "a.txt")
    mtime = (repo / "a.txt").stat().st_mtime_ns / 1e9
    r = gitrepo.find_repo(str(repo))
    assert gitwrote._written_during(r, [b"a.txt"], mtime + 0.015) == [b"a.txt"]
    assert gitwrote._written_during(r, [b"a.txt"], mtime + 0.5) == []


def test_file_checkout_no_false_alarms(hooked: Path) -> None:
    r = hooked
    commit(r, "a.txt", b"committed a\n")
    commit(r, "b.txt", b"committed b\n")
    gs(r, "create")  # holds only committed content
    write(r / "a.txt", b"never snapshotted\n")
    write(r / "b.txt", b"edited since\n")
    ran = git(r, "checkout", "--", "a.txt")
    # a.txt: the snapshot held only what git still has; b.txt: merely edited, not discarded
    assert ran.reports == []
    assert [h for _, h in snap_lines(ran.ours)] == ["post-checkout"]
    # an edit the user replaced and committed a while ago: git did not touch it now
    write(r / "b.txt", b"edited, then committed\n")
    git(r, "commit", "-q", "-am", "b")
    os.utime(r / "b.txt", (1_600_000_000, 1_600_000_000))
    ran = git(r, "checkout", "--", "a.txt")
    assert ran.reports == [], ran.said
    # a checkout of a file from another commit: the snapshot's version is in HEAD
    side_commit(r, "other", {"a.txt": b"other a\n"})
    ran = git(r, "checkout", "other", "--", "a.txt")
    assert ran.reports == [] and (r / "a.txt").read_bytes() == b"other a\n"


# --------------------------------------------------------------------------- failures


@pytest.mark.parametrize(
    ("op", "store"), [("merge", "file"), ("merge", "ephemeral"), ("rebase", "file")]
)
def test_a_failed_pre_hook_snapshot_stops_git(
    hooked: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, op: str, store: str
) -> None:
    r = hooked
    side_commit(r, "feature", {".env": COMMITTED, "f.txt": b"f\n"})
    commit(r, "m.txt", b"m\n")
    write(r / ".env", SECRET)
    old, before = head(r), worktree_state(r)
    if store == "file":
        blocker = tmp_path / "a-file"
        blocker.write_bytes(b"")
        monkeypatch.setenv("GIT_SNAPSHOT_STORE", str(blocker))
        why = "as the snapshot store: it is not a directory"
    else:
        if location.ephemeral_reason(Path(os.environ["GIT_SNAPSHOT_STORE"])) is None:
            pytest.skip("the test store is not on ephemeral storage here (--basetemp?)")
        monkeypatch.delenv("GIT_SNAPSHOT_ALLOW_EPHEMERAL")
        why = "lost on reboot"
    argv = [op, "--no-edit", "feature"] if op == "merge" else [op, "feature"]

    ran = git(r, *argv, rc=None)
    assert ran.rc != 0
    assert head(r) == old and worktree_state(r) == before
    (line,) = ran.ours
    assert why in line and "GIT_SNAPSHOT_SKIP=1" in line

    ran = git(r, *argv, GIT_SNAPSHOT_SKIP="1")
    assert ran.ours == [] and head(r) != old and (r / "f.txt").exists()


def test_a_failed_post_hook_snapshot_never_fails_git(
    hooked: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    r = hooked
    side_commit(r, "feature", {"f.txt": b"f\n"})
    commit(r, "m.txt", b"m\n")
    blocker = tmp_path / "a-file"
    blocker.write_bytes(b"")
    monkeypatch.setenv("GIT_SNAPSHOT_STORE", str(blocker))
    ran = git(r, "checkout", "-q", "-b", "topic")  # rc 0 checked by git()
    (line,) = ran.ours
    assert line.startswith("git-snapshot: post-checkout snapshot failed: cannot use")
    # --no-verify skips pre-rebase; post-rewrite still runs, fails, and the rebase succeeds
    ran = git(r, "rebase", "--no-verify", "feature")
    assert (r / "f.txt").exists()
    (line,) = ran.ours
    assert line.startswith("git-snapshot: post-rewrite snapshot failed")


def test_a_failed_pre_merge_commit_snapshot_says_how_to_undo_the_merge(
    hooked: Path, store_dir: Path
) -> None:
    """pre-merge-commit runs after the merge wrote the worktree; when its snapshot fails, git
    leaves the merge uncommitted, and the line says how to get out."""
    r = hooked
    side_commit(r, "feature", {"f.txt": b"f\n"})
    commit(r, "m.txt", b"m\n")
    old, before = head(r), worktree_state(r)
    # a user's reference-transaction hook, run after ours: it breaks the store once our
    # snapshot before the merge is taken, so that only pre-merge-commit fails
    broken = f"{store_dir}.off"
    write(
        r / ".git" / "hooks" / "reference-transaction.git-snapshot-chained",
        (
            "#!/bin/sh\ncat >/dev/null\n"
            f'if [ "$1" = committed ] && [ -d {store_dir} ]; then '
            f"mv {store_dir} {broken} && : >{store_dir}; fi\n"
        ).encode(),
        0o755,
    )
    ran = git(r, "merge", "--no-edit", "feature", rc=None)
    assert ran.rc != 0 and head(r) == old and (r / "f.txt").exists()
    os.unlink(store_dir)  # the store back in place, to read what was taken
    os.rename(broken, store_dir)
    assert triggers(r)[-1] == "reference-transaction"
    line = ran.ours[-1]
    assert len(ran.ours) == 1 and "GIT_SNAPSHOT_SKIP=1" in line
    m = re.search(r"'(git merge --abort)' undoes it", line)
    assert m, line
    git(r, *m.group(1).split()[1:])
    assert head(r) == old and worktree_state(r) == before


def test_a_failed_pre_rebase_with_autostash_says_where_the_edits_are(
    hooked: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """git 2.39 does not apply its autostash back when pre-rebase refuses: the line says how
    to get the edits back, and doing that works."""
    r = hooked
    commit(r, "a.txt", b"committed a\n")
    side_commit(r, "feature", {"f.txt": b"f\n"}, base="HEAD~1")
    write(r / "a.txt", b"dirty a\n")
    blocker = tmp_path / "a-file"
    blocker.write_bytes(b"")
    monkeypatch.setenv("GIT_SNAPSHOT_STORE", str(blocker))
    ran = git(r, "rebase", "--autostash", "feature", rc=None)
    assert ran.rc != 0 and not (r / "f.txt").exists()
    (line,) = ran.ours
    assert "GIT_SNAPSHOT_SKIP=1" in line
    m = re.search(r"get them back with '([^']+)'", line)
    assert m, line
    for step in m.group(1).split(" && "):
        git(r, *step.split()[1:])
    assert (r / "a.txt").read_bytes() == b"dirty a\n"


def test_skip_env_takes_no_snapshot(hooked: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    r = hooked
    side_commit(r, "feature", {".env": COMMITTED, "f.txt": b"f\n"})
    commit(r, "m.txt", b"m\n")
    write(r / ".env", SECRET)
    monkeypatch.setenv("GIT_SNAPSHOT_SKIP", "1")
    ran = [
        git(r, "merge", "--no-edit", "feature"),
        git(r, "checkout", "-q", "-b", "topic", "HEAD~1"),
        git(r, "rebase", "-q", "main"),
        git(r, "checkout", "-q", "--", "."),
    ]
    assert [x.ours for x in ran] == [[], [], [], []]
    assert snaps(r) == []


# --------------------------------------------------------------------------- chaining


def test_existing_hooks_are_chained(hooked: Path, tmp_path: Path) -> None:
    r = hooked
    git(r, "snapshot", "uninstall")
    hooks = r / ".git" / "hooks"
    log = tmp_path / "user-hooks.log"
    for name in ("pre-rebase", "post-checkout"):
        write(
            hooks / name,
            f'#!/bin/sh\necho "{name} $*" >>{log}\nexit "${{USER_HOOK_RC:-0}}"\n'.encode(),
            0o755,
        )
    ran = install(r)
    assert "pre-rebase: installed; chained the existing hook" in ran.out + ran.err
    side_commit(r, "feature", {"f.txt": b"f\n"})
    commit(r, "m.txt", b"m\n")
    old = head(r)

    ran = git(r, "checkout", "-q", "-b", "topic")
    assert log.read_text() == f"post-checkout {old} {old} 1\n"
    assert [h for _, h in snap_lines(ran.ours)] == ["post-checkout"]

    write(r / "notes.txt", b"untracked\n")
    ran = git(r, "rebase", "feature", rc=None, USER_HOOK_RC="1")
    assert ran.rc != 0 and head(r) == old and not (r / "f.txt").exists()
    assert log.read_text().splitlines()[-1] == "pre-rebase feature"
    # ours ran first and took its snapshot (silently: a pre-hook), then the user's hook refused
    assert snap_lines(ran.ours) == []
    assert triggers(r)[-1] == "pre-rebase"

    git(r, "rebase", "feature")
    assert (r / "f.txt").exists() and triggers(r)[-1] == "post-rewrite"


# --------------------------------------------------------------------------- quiet, no repeats


def test_a_snapshot_of_an_unchanged_tree_is_not_stored_again(hooked: Path) -> None:
    r = hooked
    ran = git(r, "checkout", "-q", "-b", "one")
    ((first, hook),) = snap_lines(ran.ours)
    assert hook == "post-checkout" and len(ran.ours) == 1
    ran = git(r, "checkout", "-q", "-b", "two")
    assert ran.ours == [f"git-snapshot: unchanged since snapshot {first}"]
    assert [s["id"] for s in snaps(r)] == [first]


def test_pre_commits_own_checkout_is_not_recorded(hooked: Path) -> None:
    """pre-commit's `git checkout -- .` runs while it has stashed the user's edits."""
    r = hooked
    commit(r, "a.txt", b"committed a\n")
    write(r / "a.txt", b"edit a\n")
    ran = git(r, "checkout", "--", "a.txt", _PRE_COMMIT_SKIP_POST_CHECKOUT="1")
    assert ran.ours == [] and snaps(r) == []


# --------------------------------------------------------------------------- autostash


@pytest.mark.parametrize("backend", ["--merge", "--apply"])
def test_rebase_autostash_keeps_the_dirty_edit_in_the_snapshots(
    hooked: Path, tmp_path: Path, backend: str
) -> None:
    """git stashes before pre-rebase and applies the stash after post-rewrite: at both hooks
    the worktree lacks the edit, which sits in rebase-merge/autostash (rebase-apply/ with
    --apply). post-rewrite's holds it merged onto feature's change, as git applies it and
    the worktree then holds it (RED39 B1)."""
    r = hooked
    commit(r, "a.txt", b"1\n2\n3\n4\n5\n")
    side_commit(r, "feature", {"a.txt": b"one\n2\n3\n4\n5\n"}, base="HEAD")
    git(r, "reset", "-q", "--hard", "HEAD~1")
    commit(r, "mine.txt", b"mine\n")
    commit(r, "a.txt", b"1\n2\n3\n4\n5\n", msg="a again")
    write(r / "a.txt", b"1\n2\n3\n4\nfive\n")  # dirty, apart from feature's change

    ran = git(r, "rebase", backend, "--autostash", "feature")
    assert (r / "a.txt").read_bytes() == b"one\n2\n3\n4\nfive\n"
    assert ran.reports == []  # the edit was in the autostash, never lost
    pre, post = snaps(r)[-2:]
    assert (pre["trigger"], post["trigger"]) == ("pre-rebase", "post-rewrite")
    assert saved(r, pre["id"], tmp_path)["a.txt"] == b"1\n2\n3\n4\nfive\n"
    assert saved(r, post["id"], tmp_path)["a.txt"] == b"one\n2\n3\n4\nfive\n"


def test_pull_rebase_autostash_keeps_the_dirty_edit(
    repo: Path, clone: Path, tmp_path: Path
) -> None:
    commit(clone, "local.txt", b"mine\n")
    commit(repo, "up.txt", b"upstream\n")
    write(clone / "README", b"dirty readme\n")
    ran = git(clone, "pull", "-q", "--rebase", "--autostash")
    assert ran.reports == [] and (clone / "up.txt").exists()
    assert (clone / "README").read_bytes() == b"dirty readme\n"
    assert triggers(clone) == ["pre-rebase", "post-rewrite"]
    for s in snaps(clone):
        assert saved(clone, s["id"], tmp_path)["README"] == b"dirty readme\n", s["trigger"]


def test_merge_autostash_keeps_the_dirty_edit_in_the_snapshots(
    hooked: Path, tmp_path: Path
) -> None:
    r = hooked
    commit(r, "a.txt", b"committed a\n")
    side_commit(r, "feature", {"f.txt": b"f\n"}, base="HEAD")
    commit(r, "m.txt", b"m\n")
    write(r / "a.txt", b"dirty a\n")
    ran = git(r, "merge", "--autostash", "--no-edit", "feature")
    assert ran.reports == [] and (r / "a.txt").read_bytes() == b"dirty a\n"
    assert triggers(r) == ["reference-transaction", "pre-merge-commit", "post-merge"]
    for s in snaps(r):
        assert saved(r, s["id"], tmp_path)["a.txt"] == b"dirty a\n", s["trigger"]


# --------------------------------------------------------------------------- retention


def _backdate(store: Path, seconds: float) -> None:
    db = sqlite3.connect(store / "index.sqlite")
    try:
        with db:
            db.execute("UPDATE snapshots SET created = created - ?", (seconds,))
    finally:
        db.close()


@pytest.mark.parametrize("auto", ["true", "false"])
def test_retention_runs_after_hook_snapshots(hooked: Path, store_dir: Path, auto: str) -> None:
    r = hooked
    git(r, "config", "snapshot.keepLast", "3")
    git(r, "config", "snapshot.keepWithin", "1s")
    git(r, "config", "snapshot.autoPrune", auto)
    for i in range(4):
        write(r / f"u{i}.txt", b"%d\n" % i)
        gs(r, "create")
    _backdate(store_dir, 3600)
    write(r / "u4.txt", b"4\n")
    ran = git(r, "checkout", "-q", "-b", "topic")
    ((new, _),) = snap_lines(ran.ours)
    ids = [s["id"] for s in snaps(r)]
    if auto == "true":
        assert ids == [3, 4, new]  # keepLast 3, and nothing else is younger than 1s
    else:
        assert ids == [1, 2, 3, 4, new]


# --------------------------------------------------------------------------- linked worktree


def test_linked_worktree(hooked: Path, tmp_path: Path) -> None:
    r = hooked
    wt = tmp_path / "wt"
    ran = git(r, "worktree", "add", "-q", "-b", "wtb", str(wt))
    assert [h for _, h in snap_lines(ran.ours)] == ["post-checkout"]
    (first,) = snaps(wt)
    assert first["worktree"] == str(wt.resolve()) and first["branch"] == "wtb"
    assert snaps(r) == []  # list shows this worktree's snapshots only

    side_commit(r, "feature", {".env": COMMITTED}, base="wtb")
    write(wt / ".env", SECRET)
    write(r / ".env", b"main's own\n")
    ran = git(wt, "merge", "feature")
    (rep,) = ran.reports
    snap = by_id(wt, rep.snap)
    assert snap["trigger"] == "reference-transaction" and snap["worktree"] == str(wt.resolve())
    assert saved(wt, rep.snap, tmp_path)[".env"] == SECRET
    restore(wt, rep)
    assert (wt / ".env").read_bytes() == SECRET
    assert (r / ".env").read_bytes() == b"main's own\n"
    assert {s["worktree"] for s in snaps(wt)} == {str(wt.resolve())}


def test_install_runs_the_console_script(hooked: Path) -> None:
    """The shims call the git-snapshot that `git snapshot install` was run as."""
    shim = (hooked / ".git" / "hooks" / "post-merge").read_text()
    exe = re.search(r"^exe=(\S+) forward= py=", shim, re.M)  # py: tests/test_shim_fast.py
    assert exe
    path = Path(exe.group(1).strip("'"))
    assert path.name == "git-snapshot" and os.access(path, os.X_OK)
    assert stat.S_IMODE((hooked / ".git" / "hooks" / "post-merge").stat().st_mode) == 0o755
    assert run(hooked, str(path), "--help").out.startswith("usage: git snapshot")
