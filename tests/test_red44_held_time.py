"""RED44 F8.1: lines held for the next git-snapshot command (the watcher's burst lines, a loss
report pre-commit hid with no terminal, a post-hook snapshot that failed there) were printed
as "while you were away: ...", seconds later, to a user who had been at the terminal the whole
time. Now they say when they were held, which is true either way: "git-snapshot: earlier, at
22:02: ..." (the date too when not today; "earlier: " alone for lines held by an older version,
which say no time).

Lines are held as the watcher and the hooks hold them (lossrecord.hold, lossrecord.hold_everywhere),
and printed by the CLI and a real hook.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from clihelpers import git
from clihelpers import gs
from hookhelpers import install
from hookhelpers import side_commit

from git_snapshot import gitrepo
from git_snapshot import lossrecord
from git_snapshot.hooks import UNSEEN
from git_snapshot.store import Store

LINE = "git-snapshot: 3 files under data/ were deleted at 12:00; restore with: ..."
README = Path(__file__).resolve().parent.parent / "README.md"


def _minutes(before: float, after: float, end: float) -> set[str]:
    """What a line held between *before* and *after* and printed between *after* and *end*
    may say: the minute, with the date when printed another day (a run across midnight)."""
    return {
        time.strftime(
            "%H:%M" if time.localtime(t)[:3] == time.localtime(n)[:3] else "%Y-%m-%d %H:%M",
            time.localtime(t),
        )
        for t in (before, after)
        for n in (after, end)
    }


def _held(text: str) -> list[str]:
    return [ln for ln in text.splitlines() if ln.startswith("git-snapshot: earlier")]


def test_a_held_line_says_when_it_was_held(repo: Path) -> None:
    before = time.time()
    lossrecord.hold(gitrepo.find_repo(str(repo)), [LINE])
    after = time.time()
    ran = gs(repo, "list")
    end = time.time()
    (line,) = _held(ran.err)
    assert line in {
        f"git-snapshot: earlier, at {hm}: {LINE.removeprefix('git-snapshot: ')}"
        for hm in _minutes(before, after, end)
    }, ran.err
    assert "were away" not in ran.err
    assert _held(gs(repo, "list").err) == []  # once


def test_a_line_held_on_another_day_names_the_date_and_one_of_an_older_version_no_time(
    repo: Path,
) -> None:
    """The UNSEEN file as hold writes it, its MARK's time three days back; and lines an
    older version held (no MARK, so no time)."""
    then = time.time() - 3 * 86400
    mark = lossrecord.MARK + json.dumps({"store": None, "snapshot": None, "time": then})
    unseen = Path(gitrepo.find_repo(str(repo)).git_dir) / UNSEEN
    unseen.write_text(f"{LINE}\n{mark}\n{LINE}\n")
    said = _held(gs(repo, "list").err)
    rest = LINE.removeprefix("git-snapshot: ")
    day = time.strftime("%Y-%m-%d %H:%M", time.localtime(then))
    assert said == [f"git-snapshot: earlier: {rest}", f"git-snapshot: earlier, at {day}: {rest}"]


def test_a_line_held_for_every_worktree_says_when_too(repo: Path, store_dir: Path) -> None:
    """hold_everywhere (the watcher saw a repository deleted whole): printed by the next hook
    of any worktree using the store."""
    side_commit(repo, "b", {"b.txt": b"b\n"})
    install(repo)
    line = "git-snapshot: the repository /gone was deleted whole at 12:00 (2 files: a, b)"
    before = time.time()
    with Store(os.fspath(store_dir)) as store:
        lossrecord.hold_everywhere(store, [line])
    after = time.time()
    ran = git(repo, "checkout", "-q", "b")
    end = time.time()
    (said,) = _held(ran.err)
    rest = line.removeprefix("git-snapshot: ")
    assert said in {
        f"git-snapshot: earlier, at {hm}: {rest}" for hm in _minutes(before, after, end)
    }
    assert _held(git(repo, "checkout", "-q", "main").err) == []  # once


def test_the_readme_quotes_the_new_words() -> None:
    text = README.read_text()
    assert "while you were away" not in text
    assert "git-snapshot: earlier, at " in text
