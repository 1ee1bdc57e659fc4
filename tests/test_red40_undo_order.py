"""RED40 A finding 1: a stopped operation's report comes before the report of the guarded
command that ends it, so `undo` acts on the loss the user read last.

A rebase (or merge) overwrites an ignored app.log and stops on a conflict (no hook reports
then); the user resolves m.py by hand and ends it with `git snapshot run -- git rebase
--abort`, as README says. The abort destroys the resolution. The rebase's note was left while
the rebase was in progress, and consumed only by the next git-snapshot command: its report
was recorded after the abort's, so `undo` took it for the latest and undid the rebase's loss,
and the abort's (the resolution) could no longer be undone. The merge's note is consumed at
the start of `run` (a merge in progress does not hold it back): that order was right already.

Real git, the plain hooks installed as a user installs them.
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
from hookhelpers import write

PRECIOUS = b"my precious log\n"
RESOLVED = b"my careful resolution\n"


@pytest.fixture
def stopped(request: pytest.FixtureRequest, repo: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A `git rebase feat` or `git merge feat` (request.param) that overwrote the ignored
    app.log and stopped on m.py, which the user then resolved by hand; returns the verb."""
    put_venv_on_path(monkeypatch)
    commit(repo, ".gitignore", b"*.log\n")
    commit(repo, "m.py", b"base\n")
    git(repo, "checkout", "-q", "-b", "feat")
    commit(repo, "m.py", b"feat\n")
    commit(repo, "app.log", b"log from feat\n", force=True)
    git(repo, "checkout", "-q", "-")
    commit(repo, "m.py", b"main\n")
    install(repo)
    write(repo / "app.log", PRECIOUS)
    gs(repo, "create", "-m", "before")
    verb = str(request.param)
    assert git(repo, verb, "feat", rc=None).rc != 0
    assert (repo / "app.log").read_bytes() == b"log from feat\n"
    write(repo / "m.py", RESOLVED)
    return verb


def _commands(repo: Path) -> list[str]:
    return [e["command"] for e in json.loads(gs(repo, "losses", "--json").out)]


@pytest.mark.parametrize("stopped", ["rebase", "merge"], indirect=True)
def test_the_stopped_operations_report_comes_first_and_undo_takes_the_aborts(
    repo: Path, stopped: str
) -> None:
    ran = gs(repo, "run", "--", "git", stopped, "--abort")
    assert [(r.what, r.names) for r in ran.reports] == [
        (f"git {stopped}", "app.log"),
        (f"git {stopped} --abort", "m.py"),
    ], ran.err
    assert _commands(repo) == [f"git {stopped}", f"git {stopped} --abort"]
    undone = gs(repo, "undo")
    assert f"undoing: git {stopped} --abort" in undone.out + undone.err
    assert (repo / "m.py").read_bytes() == RESOLVED
    # the stopped operation's loss: its printed command gives it back
    restore(repo, ran.reports[0])
    assert (repo / "app.log").read_bytes() == PRECIOUS
    assert gs(repo, "list").reports == []  # each reported once


@pytest.mark.parametrize("stopped", ["rebase"], indirect=True)
def test_a_json_run_keeps_its_stdout_one_object(repo: Path, stopped: str) -> None:
    """The stopped operation's lines go to stderr, as every report: stdout is the JSON."""
    ran = gs(repo, "run", "--json", "--", "git", stopped, "--abort")
    data = json.loads(ran.out[ran.out.index("{") :])
    assert [x["path"] for x in data["losses"]["lost"]] == ["m.py"]
    assert [(r.what, r.names) for r in ran.reports] == [("git rebase", "app.log")], ran.err
    assert _commands(repo) == ["git rebase", "git rebase --abort"]
