"""A snapshot taken while a rebase is stopped (`git snapshot create`, the watcher's) hid what
the rebase destroyed before it stopped (fixF's note, session 41).

The user's ignored x.log "MY SECRET"; `git rebase main`: its first pick adds x.log (git
writes over the user's, silently: it is ignored), its second stops on a conflict. A snapshot
is taken during the stop (it holds git's x.log); the user resolves, and a plain `git rebase
--continue` ends the rebase (its third pick deletes x.log again). post-rewrite compared the
newest snapshot before the continue (the one taken during the stop: git's x.log, which git
gives back) with the end, and the stopped rebase's note, deleted there unread, named nothing:
no report, nothing in `git snapshot losses`, while the pre-rebase snapshot holds the secret.

The same stop ended otherwise (`run -- git rebase --continue`), a `git am` and a merge
stopped the same way: guards (they named it, once). And `run -- git rebase main` that
stopped, whose pick wrote over a file no snapshot holds (left out): named "not saved" by run,
and again by the plain `--continue`'s post-rewrite.

Real git, the hooks installed as a user installs them.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from clihelpers import Ran
from clihelpers import Report
from clihelpers import git
from clihelpers import gs
from clihelpers import run
from hookhelpers import install
from hookhelpers import put_venv_on_path
from hookhelpers import restore
from hookhelpers import write
from stoppedhelpers import SECRET
from stoppedhelpers import hooked_topic
from stoppedhelpers import logged
from stoppedhelpers import naming
from stoppedhelpers import resolve
from stoppedhelpers import stopped_am
from stoppedhelpers import topic_branches
from stoppedhelpers import x_and_y_named

IGNORE = b"*.log\n/big/\n"


def _during(repo: Path, how: str) -> None:
    """A snapshot taken while the operation is stopped: by hand, or the watcher's (its worker
    run here by hand, as the daemon runs it 3 s after the last change)."""
    if how == "create":
        gs(repo, "create", "-m", "during the stop")
    else:
        took = run(repo, sys.executable, "-m", "git_snapshot.watch.take", str(repo))
        assert json.loads(took.out)["new"], took.out


def _naming(ran: Ran, name: str) -> list[Report]:
    return naming(ran.reports, name)


def _logged(repo: Path, name: str) -> list[int]:
    """The snapshot of each entry of the loss log naming *name*."""
    return [snap for snap, _ in logged(repo, name)]


def _secret_back(repo: Path, named: Report) -> None:
    """*named*'s snapshot is the one loss log entry naming x.log; its restore gives SECRET."""
    assert _logged(repo, "x.log") == [named.snap]
    restore(repo, named)
    assert (repo / "x.log").read_bytes() == SECRET


def _stopped_rebase(repo: Path, monkeypatch: pytest.MonkeyPatch, how: str) -> Ran:
    """The rebase of the module's docstring, stopped, a snapshot taken (*how*), resolved."""
    picks = [("x.log", b"from topic\n"), ("a.txt", b"topic\n"), ("x.log", None)]
    hooked_topic(repo, monkeypatch, picks, IGNORE)
    stopped = git(repo, "rebase", "main", rc=None)
    assert stopped.rc != 0 and (repo / ".git" / "rebase-merge").is_dir(), stopped.said
    assert (repo / "x.log").read_bytes() == b"from topic\n"  # the secret is gone
    _during(repo, how)
    resolve(repo)
    return stopped


@pytest.mark.parametrize("how", ["create", "watch"])
def test_a_snapshot_during_a_stopped_rebase_hides_nothing(
    repo: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    _stopped_rebase(repo, monkeypatch, how)
    went_on = git(repo, "rebase", "--continue")
    assert not (repo / ".git" / "rebase-merge").exists()
    assert not (repo / "x.log").exists()
    (named,) = _naming(went_on, "x.log")  # was: none, and the loss log empty
    assert named.what == "git rebase", went_on.said
    _secret_back(repo, named)


def test_the_user_s_change_during_the_stop_is_not_the_rebase_s_loss(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Guard: the user's ignored y.log, rewritten during the stop, and z.log, deleted during
    the stop; picks after the stop add each, then delete it. y.log's loss is its newer
    version (the snapshot during the stop holds it), named once; z.log, the user's own
    deletion, is named nowhere; x.log, the pick's before the stop, is named."""
    picks: list[tuple[str, bytes | None]] = [("x.log", b"from topic\n"), ("a.txt", b"topic\n")]
    picks += [("x.log", None), ("y.log", b"topic's y\n"), ("y.log", None)]
    picks += [("z.log", b"topic's z\n"), ("z.log", None)]
    hooked_topic(repo, monkeypatch, picks, IGNORE)
    write(repo / "y.log", b"first y\n")
    write(repo / "z.log", b"the user's z\n")
    assert git(repo, "rebase", "main", rc=None).rc != 0
    write(repo / "y.log", b"second y\n")
    (repo / "z.log").unlink()
    _during(repo, "create")
    resolve(repo)
    went_on = git(repo, "rebase", "--continue")
    assert not (repo / ".git" / "rebase-merge").exists()
    x_and_y_named(repo, went_on, b"second y\n")


def test_run_continue_after_a_snapshot_during_the_stop_names_it_once(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Guard: the same stop, ended by `git snapshot run -- git rebase --continue`."""
    _stopped_rebase(repo, monkeypatch, "create")
    ran = gs(repo, "run", "--", "git", "rebase", "--continue")
    assert not (repo / "x.log").exists()
    (named,) = _naming(ran, "x.log")
    _secret_back(repo, named)


def test_a_stopped_am_with_a_snapshot_during_it_names_its_loss_once(
    repo: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Guard: `git am -3`: its first patch adds x.log over the user's, its second stops; a
    snapshot during the stop; `git am --continue` (no hook after an am): the next
    git-snapshot command names it."""
    stopped_am(repo, monkeypatch, tmp_path, [("x.log", b"from the patch\n"), ("a.txt", b"topic\n")])
    assert (repo / "x.log").read_bytes() == b"from the patch\n"
    _during(repo, "create")
    resolve(repo)
    git(repo, "am", "--continue")
    shown = gs(repo, "list")
    (named,) = _naming(shown, "x.log")
    _secret_back(repo, named)


def test_a_stopped_merge_with_a_snapshot_during_it_names_its_loss_once(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Guard: `git merge topic` writes topic's x.log over the user's and stops on a.txt; a
    snapshot during the stop; the commit that concludes it."""
    put_venv_on_path(monkeypatch)
    topic_branches(repo, [("x.log", b"from topic\n"), ("a.txt", b"topic\n")], IGNORE)
    git(repo, "checkout", "-q", "main")
    install(repo)
    write(repo / "x.log", SECRET)
    assert git(repo, "merge", "topic", rc=None).rc != 0
    assert (repo / "x.log").read_bytes() == b"from topic\n"
    created = gs(repo, "create", "-m", "during the stop")
    resolve(repo)
    done = git(repo, "commit", "-q", "-m", "merged")
    named = _naming(created, "x.log") + _naming(done, "x.log")
    assert len(named) == 1, created.said + done.said
    _secret_back(repo, named[0])


def test_a_file_no_snapshot_holds_run_named_at_the_stop_is_named_once(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Guard (fixF's second note): `run -- git rebase main`, whose first pick writes over the
    user's x.log (snapshot.exclude: in no snapshot) and whose second deletes it, stops on the
    third; run names x.log "not saved"; the plain `git rebase --continue` names it no more."""
    picks = [("x.log", b"from topic\n"), ("x.log", None), ("a.txt", b"topic\n")]
    hooked_topic(repo, monkeypatch, picks, IGNORE)
    git(repo, "config", "snapshot.exclude", "x.log")
    ran = gs(repo, "run", "--", "git", "rebase", "main", rc=None)
    assert (repo / ".git" / "rebase-merge").is_dir(), ran.err
    assert not (repo / "x.log").exists()
    said = [ln for ln in ran.said if "not saved" in ln and "x.log" in ln]
    assert len(said) == 1, ran.said
    resolve(repo)
    went_on = git(repo, "rebase", "--continue")
    assert not (repo / ".git" / "rebase-merge").exists()
    assert [ln for ln in went_on.said if "x.log" in ln] == [], went_on.said
    entries = json.loads(gs(repo, "losses", "--json").out)
    assert sum("x.log" in json.dumps(e) for e in entries) == 1, entries
