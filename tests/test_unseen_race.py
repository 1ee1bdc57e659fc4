"""A loss line held for the next command (lossrecord.hold: the watcher's worker, a pre-commit
hook without a terminal) while another command takes the held lines (lossrecord.take_unseen:
every command that works in the worktree): the line is printed once, never lost. The file
was created, then written: a command that claimed it between the two read nothing and
removed it, and the line went into the removed file. Real processes; the moment between the
two steps is made to last by the test."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from clihelpers import gs

from git_snapshot import gitrepo
from git_snapshot import lossrecord

LINE = "git-snapshot: 3 files under data/ were deleted at 12:00; restore with: ..."


def _away(ran: str) -> list[str]:
    return [ln for ln in ran.splitlines() if ln.startswith("git-snapshot: earlier")]


def test_a_line_held_while_another_command_takes_them_is_printed_once(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another command takes the held lines right after hold() opened the file, before it
    wrote to it."""
    unseen = os.path.realpath(os.path.join(repo, ".git", lossrecord.UNSEEN))
    taken: list[str] = []
    real_open = os.open

    def open_then_another_command(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        fd = real_open(path, flags, *args, **kwargs)
        if not taken and flags & os.O_CREAT and os.path.realpath(path) == unseen:
            taken.extend(_away(gs(repo, "list").err) or ["(it printed none)"])
        return fd

    with monkeypatch.context() as m:
        m.setattr(os, "open", open_then_another_command)
        lossrecord.hold(gitrepo.find_repo(str(repo)), [LINE])
    assert taken == ["(it printed none)"]  # the file was empty then
    taken.extend(_away(gs(repo, "list").err))  # the next command
    (said,) = taken[1:]
    assert said.endswith(": " + LINE.removeprefix("git-snapshot: ")), taken
    assert not os.path.exists(unseen)
