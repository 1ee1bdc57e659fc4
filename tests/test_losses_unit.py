"""The loss computation itself: losses.find against a real store and real git, no hooks."""

from __future__ import annotations

import json
import os
from pathlib import Path

from clihelpers import git

from git_snapshot import gitrepo
from git_snapshot import identity
from git_snapshot import losses
from git_snapshot import lossrecord
from git_snapshot import lossreport
from git_snapshot import worktree
from git_snapshot.store import Store


def _snap(repo: Path) -> tuple[gitrepo.Repo, int]:
    r = gitrepo.find_repo(str(repo))
    with Store() as store:
        return r, worktree.take(store, r, trigger="manual").snapshot.id


def _find(repo: Path, snap_id: int, revs: list[str] | None = None) -> list[str]:
    r = gitrepo.find_repo(str(repo))
    with Store() as store:
        snap = store.get(identity.source(store, r), str(snap_id))
        return [os.fsdecode(x.path) for x in losses.find(store, r, snap, None, revs or [])]


def _commit(repo: Path, rel: str, data: str) -> None:
    (repo / rel).write_text(data)
    git(repo, "add", rel)
    git(repo, "commit", "-q", "-m", rel)


def test_an_edit_committed_later_is_not_lost(repo: Path) -> None:
    """The snapshot's recorded HEAD is old; the edit is in HEAD now: git has it."""
    _commit(repo, "b.txt", "one\n")
    (repo / "b.txt").write_text("edit\n")
    _, sid = _snap(repo)
    git(repo, "commit", "-q", "-am", "E")
    _commit(repo, "b.txt", "later\n")
    old = git(repo, "rev-parse", "HEAD~1").strip()
    assert _find(repo, sid) == []  # HEAD was at it since the snapshot (RED37 review RF)...
    git(repo, "reflog", "expire", "--expire=now", "--all")
    assert _find(repo, sid) == ["b.txt"]  # ...not at HEAD any more, and the reflog gone...
    assert _find(repo, sid, [old]) == []  # ...but in a commit the operation moved from


def test_a_stashed_edit_and_untracked_file_are_not_lost(repo: Path) -> None:
    _commit(repo, "a.txt", "one\n")
    (repo / "a.txt").write_text("edit\n")
    (repo / "u.txt").write_text("untracked\n")
    _, sid = _snap(repo)
    git(repo, "stash", "-u", "-q")
    assert _find(repo, sid) == []
    git(repo, "stash", "drop", "-q")
    assert _find(repo, sid) == ["a.txt", "u.txt"]


def test_the_index_counts_as_a_copy_git_has(repo: Path) -> None:
    _commit(repo, "a.txt", "one\n")
    (repo / "a.txt").write_text("staged\n")
    git(repo, "add", "a.txt")
    _, sid = _snap(repo)
    (repo / "a.txt").write_text("other\n")
    assert _find(repo, sid) == []  # `git checkout -- a.txt` gives it back
    git(repo, "reset", "-q", "--hard")
    assert _find(repo, sid) == ["a.txt"]


def test_ignored_content_identical_to_a_commit_is_not_lost(repo: Path) -> None:
    (repo / ".gitignore").write_text(".env\n")
    git(repo, "add", ".gitignore")
    git(repo, "commit", "-q", "-m", "i")
    (repo / ".env").write_text("same\n")
    _, sid = _snap(repo)
    os.unlink(repo / ".env")
    assert _find(repo, sid) == [".env"]
    # the same bytes committed anywhere at that path (here: on a branch) make it recoverable
    (repo / ".env").write_text("same\n")
    git(repo, "checkout", "-q", "-b", "keep")
    git(repo, "add", "-f", ".env")
    git(repo, "commit", "-q", "-m", "env")
    keep = git(repo, "rev-parse", "HEAD").strip()
    git(repo, "checkout", "-q", "-")
    assert not (repo / ".env").exists()
    assert _find(repo, sid, [keep]) == []


def test_fold_and_report_lines(repo: Path) -> None:
    r = gitrepo.find_repo(str(repo))
    many = [b"node_modules/m%d.js" % i for i in range(1062)] + [b".env"]
    assert lossreport.fold(many) == ["node_modules/ (1,062 files)", ".env"]
    assert lossreport.fold([b"a", b"b"]) == ["a", "b"]
    lost = [losses.Loss(p, "ignored", "deleted") for p in many]
    # restore_paths's answer for a wholly lost node_modules (a Report without it names every
    # lost path: a top folder could hold something the operation changed on purpose)
    rep = lossreport.Report(
        "git switch",
        14,
        0.0,
        False,
        lost,
        [(b"notes.txt", "why")],
        when=720.0,
        restore=[b".env", b"node_modules"],
    )
    (line, unsaved) = rep.lines(r, r.toplevel)
    assert line.startswith("git-snapshot: git switch destroyed 1063 ignored files: ")
    assert (
        "an earlier version, saved 12m ago, is in snapshot 14; later edits, if any, were not saved"
        in line
    )
    assert line.endswith("restore with: git snapshot restore 14 .env node_modules)")
    assert unsaved == "git-snapshot: not saved: notes.txt, why"
    assert lossreport.Report("git switch", 14, 0.0, True, lost).covering() == many
    exact = lossreport.Report("git merge", 3, 0.0, True, lost[:1], when=1.0)
    assert (
        "(saved in snapshot 3; restore with: git snapshot restore 3 node_modules/m0.js)"
        in (exact.lines(r, r.toplevel)[0])
    )
    assert not lossreport.Report("x", 1, 0.0, True, [])


def test_the_log_keeps_every_report_and_skips_a_torn_line(repo: Path) -> None:
    r = gitrepo.find_repo(str(repo))
    with Store() as store:
        for i in (1, 2):
            loss = losses.Loss(b"f%d" % i, "tracked", "modified")
            lossrecord.record(store, r, lossreport.Report(f"git c{i}", i, 0.0, True, [loss]))
        with open(lossrecord._log_path(store, r), "a") as f:
            f.write('{"torn": ')
        items = lossrecord.history(store, r)
    assert [(i["command"], i["snapshot"]) for i in items] == [("git c1", 1), ("git c2", 2)]
    assert json.loads(json.dumps(items))[1]["lost"][0]["path"] == "f2"
