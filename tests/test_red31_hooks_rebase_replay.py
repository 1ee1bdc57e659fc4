"""RED31 (red team B, finding 1): a rebase that replays "add X" then "remove X".

A branch holds a commit that added `.env` by mistake (`git add -f`) and a later one that
untracked it again. The user has an ignored `.env` of their own. `git rebase main` picks the
first commit (git writes its `.env` over the user's, silently: it is ignored) and then the
second (git deletes it). post-rewrite compared only the paths ORIG_HEAD and HEAD differ at
(`.env` is in neither) and the files written during the rebase (`.env` is gone: no mtime), so
the secret was destroyed and nothing said so, though the pre-rebase snapshot holds it. Now a
path gone since the snapshot before that one of HEAD's moves since then wrote or deleted is
compared too. The same with the watcher's snapshot taken at an `edit` stop.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from clihelpers import run
from conftest import init_repo
from hookhelpers import SECRET
from hookhelpers import commit
from hookhelpers import install
from hookhelpers import put_venv_on_path
from hookhelpers import restore
from hookhelpers import write


def _lost(repo: Path) -> list[list[str]]:
    return [[x["path"] for x in e["lost"]] for e in json.loads(gs(repo, "losses", "--json"))]


@pytest.fixture
def topic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Branch topic: "add .env by mistake", then "untrack .env again", on a main that has moved
    on since; hooks installed; topic checked out."""
    put_venv_on_path(monkeypatch)
    r = init_repo(tmp_path / "r")
    commit(r, ".gitignore", b".env\n*.local\n")
    commit(r, "a", b"a\n")
    git(r, "checkout", "-qb", "topic")
    commit(r, ".env", b"DB_PASSWORD=from-the-commit\n", "add .env by mistake", force=True)
    git(r, "rm", "-q", "--cached", ".env")
    git(r, "commit", "-qm", "untrack .env again")
    os.unlink(r / ".env")
    git(r, "checkout", "-q", "main")
    commit(r, "m", b"m\n", "main moves")
    git(r, "checkout", "-q", "topic")
    install(r)
    return r


def test_a_rebase_that_adds_then_removes_an_ignored_file_reports_it(topic: Path) -> None:
    r = topic
    write(r / ".env", SECRET)
    ran = git(r, "rebase", "main")
    assert not (r / ".env").exists()
    (rep,) = ran.reports
    assert (rep.what, rep.names, rep.kinds) == ("git rebase", ".env", "1 ignored file"), ran.said
    assert rep.exact, ran.said  # the pre-rebase snapshot, right before
    assert _lost(r) == [[".env"]]
    restore(r, rep)
    assert (r / ".env").read_bytes() == SECRET


def test_without_a_file_of_the_users_there_nothing_is_reported(topic: Path) -> None:
    """No `.env` of the user's: the rebase wrote and deleted its own, nothing was lost."""
    r = topic
    ran = git(r, "rebase", "main")
    assert not ran.reports and "destroyed" not in ran.err, ran.said
    assert _lost(r) == []


def test_a_file_the_user_deleted_that_no_pick_touched_is_not_named(topic: Path) -> None:
    """A file gone since the snapshot that no move of the rebase wrote or deleted is the
    user's own doing (the gone-path check is no blanket)."""
    r = topic
    write(r / "x.local", b"MY SCRATCH\n")
    gs(r, "-m", "with x.local")
    os.unlink(r / "x.local")
    ran = git(r, "rebase", "main")
    assert not ran.reports and "destroyed" not in ran.err, ran.said


def test_an_edit_stop_snapshot_then_add_and_remove_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The watcher variant: at an `edit` stop the user makes an ignored cfg.local, the watcher
    saves it (its worker, run here by hand); `rebase --continue` replays the commit that adds
    cfg.local and the one that removes it (fast-forwards: ORIG_HEAD and HEAD are the same
    commit, nothing differs between them)."""
    put_venv_on_path(monkeypatch)
    r = init_repo(tmp_path / "w")
    commit(r, ".gitignore", b"*.local\n")
    commit(r, "a", b"a\n")
    install(r)
    commit(r, "b", b"b\n")
    commit(r, "cfg.local", b"tracked cfg from c3\n", "c3", force=True)
    git(r, "rm", "-q", "--cached", "cfg.local")
    git(r, "commit", "-qm", "c4")
    os.unlink(r / "cfg.local")
    git(r, "rebase", "-i", "HEAD~3", GIT_SEQUENCE_EDITOR="sed -i '1s/^pick/edit/'")
    write(r / "cfg.local", b"my precious cfg made during the stop\n")
    took = run(r, sys.executable, "-m", "git_snapshot.watch.take", str(r))
    assert json.loads(took.out)["new"], took.out
    ran = git(r, "rebase", "--continue", GIT_EDITOR="true")
    assert not (r / "cfg.local").exists()
    (rep,) = ran.reports
    assert (rep.names, rep.kinds) == ("cfg.local", "1 ignored file"), ran.said
    restore(r, rep)
    assert (r / "cfg.local").read_bytes() == b"my precious cfg made during the stop\n"


def test_a_rebase_stopped_after_add_and_remove_then_aborted_is_reported(topic: Path) -> None:
    """The same two picks, then a third that conflicts: the rebase stops (no post-rewrite),
    the user aborts it. The next hook (stopped.py) names the `.env` the first two destroyed
    (ORIG_HEAD, the upstream and where it stopped all lack it)."""
    r = topic
    git(r, "checkout", "-q", "main")
    commit(r, "c", b"main's c\n")
    git(r, "checkout", "-q", "topic")
    commit(r, "c", b"topic's c\n")
    write(r / ".env", SECRET)
    stopped = git(r, "rebase", "main", rc=None)
    assert stopped.rc != 0 and not stopped.reports, stopped.said
    git(r, "rebase", "--abort")
    assert not (r / ".env").exists()
    ran = git(r, "checkout", "-q", "-b", "next")
    (rep,) = ran.reports
    assert (rep.what, rep.names) == ("git rebase", ".env"), ran.said
    restore(r, rep)
    assert (r / ".env").read_bytes() == SECRET
