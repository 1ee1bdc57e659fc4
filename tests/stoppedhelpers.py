"""Helpers for the tests of a rebase or am stopped by a conflict (this module holds no tests).

The shape they share: the user's ignored x.log (SECRET, in no commit); branch topic, whose
picks add, change and delete files over main's change of a.txt (its conflict stops the
operation); the hooks installed as a user installs them.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from clihelpers import Ran
from clihelpers import Report
from clihelpers import git
from clihelpers import gs
from hookhelpers import commit
from hookhelpers import install
from hookhelpers import put_venv_on_path
from hookhelpers import restore
from hookhelpers import write

SECRET = b"MY SECRET\n"  # the user's ignored x.log, in no commit

Picks = list[tuple[str, bytes | None]]


def topic_branches(repo: Path, picks: Picks, ignore: bytes = b"*.log\n") -> None:
    """.gitignore (*ignore*), a.txt 'base'; main: a.txt 'mainside'; topic (checked out):
    *picks*' commits (rel, data; None: untrack and delete it), each forced past .gitignore."""
    commit(repo, ".gitignore", ignore)
    commit(repo, "a.txt", b"base\n")
    git(repo, "checkout", "-q", "-b", "topic")
    for rel, data in picks:
        if data is None:
            git(repo, "rm", "-q", "--cached", rel)
            git(repo, "commit", "-q", "-m", f"untrack {rel}")
            (repo / rel).unlink()
        else:
            commit(repo, rel, data, force=True)
    git(repo, "checkout", "-q", "main")
    commit(repo, "a.txt", b"mainside\n")
    git(repo, "checkout", "-q", "topic")


def hooked_topic(
    repo: Path, monkeypatch: pytest.MonkeyPatch, picks: Picks, ignore: bytes = b"*.log\n"
) -> None:
    """The venv on PATH, GIT_EDITOR=true; topic_branches(*picks*, *ignore*); the hooks
    installed; the user's ignored x.log SECRET. The rebase is the caller's."""
    put_venv_on_path(monkeypatch)
    monkeypatch.setenv("GIT_EDITOR", "true")
    topic_branches(repo, picks, ignore)
    install(repo)
    write(repo / "x.log", SECRET)


def stopped_am(
    repo: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, patches: list[tuple[str, bytes]]
) -> None:
    """.gitignore (*.log), a.txt 'base'; two patches made of *patches*' commits on topic;
    main: a.txt 'mainside', checked out, the hooks installed, x.log SECRET; `git am -3` of
    the patches, stopped by a conflict."""
    put_venv_on_path(monkeypatch)
    commit(repo, ".gitignore", b"*.log\n")
    commit(repo, "a.txt", b"base\n")
    git(repo, "checkout", "-q", "-b", "topic")
    for rel, data in patches:
        commit(repo, rel, data, force=True)
    out = tmp_path / "patches"
    git(repo, "format-patch", "-q", "-2", "-o", str(out))
    git(repo, "checkout", "-q", "main")
    commit(repo, "a.txt", b"mainside\n")
    install(repo)
    write(repo / "x.log", SECRET)
    assert git(repo, "am", "-3", *sorted(str(p) for p in out.iterdir()), rc=None).rc != 0


def resolve(repo: Path, rel: str = "a.txt") -> None:
    """The user resolves the conflict in *rel* and stages it."""
    write(repo / rel, b"resolved\n")
    git(repo, "add", rel)


def naming(reports: list[Report], name: str) -> list[Report]:
    """The reports naming *name*."""
    return [r for r in reports if name in r.names.split(", ")]


def logged(repo: Path, name: str) -> list[tuple[int, bool]]:
    """(snapshot, exact) of each entry of the loss log naming *name*."""
    return [
        (e["snapshot"], e["exact"])
        for e in json.loads(gs(repo, "losses", "--json").out)
        if name in [x["path"] for x in e["lost"]]
    ]


def x_and_y_named(repo: Path, went_on: Ran, y: bytes) -> None:
    """*went_on* named x.log and y.log, once each: the restore y.log's report prints gives
    *y* back, x.log's SECRET."""
    names = sorted(n for r in went_on.reports for n in r.names.split(", "))
    assert names == ["x.log", "y.log"], went_on.said
    (y_report,) = naming(went_on.reports, "y.log")
    restore(repo, y_report)
    assert (repo / "y.log").read_bytes() == y
    (x_report,) = naming(went_on.reports, "x.log")
    restore(repo, x_report)
    assert (repo / "x.log").read_bytes() == SECRET
