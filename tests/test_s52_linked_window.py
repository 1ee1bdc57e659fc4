"""s52: when prep.changed_since sets every prepared tree aside for files with other names.

- A link made whose other names no look has found yet (`ln sub/.env copy`: an event for copy
  alone, sub/.env may be in a folder not known linked) sets every tree aside until a look at
  every folder, or a whole round of the periodic look, came after it: the daemon publishes
  linked_names' row ALL without a gone meanwhile, and a gone when it ends (a tree begun
  before is judged by it). tests/test_s51_red_hardlink_sub.py is the user's case.
- A tree begun over an hour ago (dirtyset.GONE_KEPT_S) was set aside in every worktree, even
  one that never had a file with other names: a new ignored .env was not named when the
  watcher's own snapshot had not followed. Now only a tree begun before the newest gone of a
  name deleted as too old (ALL's gone) is; a set without ALL (an older daemon's) keeps the
  hour's rule."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from hookhelpers import put_venv_on_path
from hookhelpers import restore
from prephelpers import past_a_tick
from test_pl48_look_explained import _daemon
from test_pl48_look_explained import _git_beside
from test_pl48_look_explained import _read
from test_red48_new_ignored_prepared import env_repo
from test_review48_look_coarse import _watchset
from test_s51_hardlink_env import INOTIFY
from test_s51_hardlink_env import MINE
from test_s51_hardlink_env import NEVER
from test_s51_hardlink_env import _prepared_now
from test_s51_hardlink_env import _tree

from git_snapshot.watch import config as wconfig
from git_snapshot.watch import dirtyset
from git_snapshot.watch import prep
from git_snapshot.watch import watchset

HOUR = dirtyset.GONE_KEPT_S


@INOTIFY
def test_a_tree_begun_over_an_hour_ago_still_names_the_new_env(
    tmp_path: Path, store_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No file with other names ever: the prepared tree holding the new .env (its began set
    back two hours, as when the user wrote .env and left, the watcher's snapshot not
    following) names .env. Was: set aside (older than the names kept), no line."""
    put_venv_on_path(monkeypatch)
    r = env_repo(tmp_path, store_dir)
    cfg = wconfig.WatchConfig(quiet=NEVER, max_delay=NEVER, prepare=0.1)
    with _daemon(store_dir, r, cfg) as d:
        (r / ".env").write_bytes(MINE)
        _read(d)
        seq = _prepared_now(d, store_dir, r, ".env", MINE)
        with dirtyset._db(str(store_dir), str(r)) as con:
            con.execute("UPDATE prep_log SET began = began - ? WHERE seq = ?", (2 * HOUR, seq))
        past_a_tick()
        ran = _git_beside(d, r, "checkout", "feat")
    assert [rep.names for rep in ran.reports] == [".env"], ran.err
    (rep,) = ran.reports
    assert gs(r, "cat", f"{rep.snap}:.env").out.encode() == MINE
    git(r, "switch", "-q", "main")
    restore(r, rep)
    assert (r / ".env").read_bytes() == MINE


@INOTIFY
def test_a_tree_begun_before_a_link_elsewhere_still_names_the_new_env(
    tmp_path: Path, store_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The tree holding the new .env prepared, then a link made into the worktree (lib.so,
    its other name outside: an event for lib.so alone, its other names unknown), and the
    look at every folder before git began: .env is named (a tree is set aside for a link's
    unknown names only when git began before the look that found them)."""
    put_venv_on_path(monkeypatch)
    r = env_repo(tmp_path, store_dir)
    (tmp_path / "lib.so").write_bytes(b"\x7fELF shared\n")
    cfg = wconfig.WatchConfig(quiet=NEVER, max_delay=NEVER, prepare=0.1)
    with _daemon(store_dir, r, cfg) as d:
        (r / ".env").write_bytes(MINE)
        _read(d)
        _prepared_now(d, store_dir, r, ".env", MINE)
        ws = d.trees[str(r)].ws
        ws.looked_at = time.monotonic()  # (the look it asks for not due yet)
        os.link(tmp_path / "lib.so", r / "lib.so")
        _read(d)
        d.flush_marks()
        assert ws.unknown_at is not None  # (the case tested: unknown, published)
        ws.looked_at = 0.0
        d.flush_marks()  # (the look at every folder it asked for, LOOK_ALL_S later)
        assert ws.unknown_at is None and str(r) in ws.linked
        past_a_tick()
        ran = _git_beside(d, r, "checkout", "feat")
    assert [rep.names for rep in ran.reports] == [".env"], ran.err
    (rep,) = ran.reports
    assert gs(r, "cat", f"{rep.snap}:.env").out.encode() == MINE


def _aside(store: str, top: Path, began: float, *paths: bytes, git: float | None = None) -> bool:
    """Whether a tree begun at *began* is set aside for *paths* written by a git command
    begun at *git* (now)."""
    with dirtyset._db(store, str(top)) as con:  # (the marks of folders leaving: another rule)
        con.execute("DELETE FROM marks")
    when = time.time() if git is None else git
    return prep.changed_since(store, str(top), _tree(began), when, set(paths))


def test_a_name_deleted_as_too_old_sets_aside_the_trees_begun_before_it(tmp_path: Path) -> None:
    """A tree two hours old, no file with other names: not set aside. A name found gone
    after it began, its row deleted an hour later (as the next publication deletes it): a
    tree begun before that gone is set aside, one begun after is not."""
    store, top = str(tmp_path / "store"), tmp_path / "wt"
    top.mkdir()
    dirtyset.watching(store, str(top))
    two_hours_ago = time.time() - 2 * HOUR
    assert not _aside(store, top, two_hours_ago, b".env")  # (was: set aside)
    dirtyset.set_linked(store, str(top), {str(top): frozenset({"shared.txt"})})
    dirtyset.set_linked(store, str(top), {})  # (shared.txt gone now)
    with dirtyset._db(store, str(top)) as con:  # (as if it went 1.5 hours ago)
        con.execute("UPDATE linked_names SET gone = gone - ? WHERE dir != ?", (1.5 * HOUR, b"\0"))
        (gone,) = con.execute("SELECT gone FROM linked_names WHERE name = ?", (b"shared.txt",))
    gone = gone[0]
    assert _aside(store, top, gone - 60, b".env", b"shared.txt")  # (by its name)
    assert not _aside(store, top, gone - 60, b".env")
    dirtyset.set_linked(store, str(top), {str(top / "sub"): None})  # (deletes the old name)
    with dirtyset._db(store, str(top)) as con:
        left = con.execute("SELECT 1 FROM linked_names WHERE name = ?", (b"shared.txt",))
        assert left.fetchone() is None
    assert _aside(store, top, gone - 60, b".env")  # (it may have been .env: named no more)
    assert _aside(store, top, gone - 60, b"shared.txt")
    assert not _aside(store, top, gone + 1, b".env")
    assert not _aside(store, top, gone + 1, b"shared.txt")
    assert _aside(store, top, gone + 1, b"sub/x")  # (sub counts whole)
    dirtyset.set_linked(store, str(top), {})  # (again: the cut stays)
    assert _aside(store, top, gone - 60, b".env")
    # a set without ALL DELETED (an older daemon's, of schema 11): the hour's rule
    with dirtyset._db(store, str(top)) as con:
        con.execute("DELETE FROM linked_names WHERE dir = ?", (dirtyset.ALL,))
    assert _aside(store, top, two_hours_ago, b".env")
    assert not _aside(store, top, time.time() - 60, b".env")


def test_a_link_of_unknown_other_names_sets_every_tree_aside_until_a_look(
    tmp_path: Path,
) -> None:
    """Published with OTHERS_UNKNOWN (WatchSet.linked_news while unknown_at is set): every
    tree is set aside, whatever path git wrote; once published without it (the look found
    the names), only for a git command begun before that (its look may have come after git
    wrote the other name, and found it one name), whenever the tree began. An older hook's
    linked_names reads ALL as a folder no path lies in."""
    store, top = str(tmp_path / "store"), tmp_path / "wt"
    top.mkdir()
    dirtyset.watching(store, str(top))
    before = time.time()
    assert not _aside(store, top, before, b"sub/.env")
    dirtyset.set_linked(store, str(top), {str(top): None, dirtyset.OTHERS_UNKNOWN: None})
    assert _aside(store, top, before, b"sub/.env")
    during = time.time()
    assert _aside(store, top, during, b"sub/.env")  # (begun while unknown)
    with dirtyset._db(store, str(top)) as con:
        assert dirtyset.linked_names(con) == {b"": None}
        assert con.execute("SELECT dir FROM linked").fetchall() == [(b"",)]
    dirtyset.set_linked(store, str(top), {})
    after = time.time() + 0.001
    assert _aside(store, top, before, b"sub/.env", git=during)
    assert _aside(store, top, during, b"sub/.env", git=during)
    assert not _aside(store, top, before, b"sub/.env", git=after)
    assert not _aside(store, top, during, b"sub/.env", git=after)
    assert not _aside(store, top, after, b"sub/.env", git=after)
    # session 51's hooks: linked_names without `n.dir != ALL`; ALL a folder no path lies in
    with dirtyset._db(store, str(top)) as con:
        rows = con.execute(
            "SELECT n.dir, n.name FROM linked_names n, state s WHERE n.pid = s.pid"
            " AND s.pid != 0 AND (n.gone IS NULL OR n.gone > ?)",
            (before,),
        ).fetchall()
    assert dirtyset.ALL in {bytes(d) for d, _ in rows}
    for path in (b".env", b"sub/.env", b"x"):
        assert not prep._other_names({dirtyset.ALL: None}, path)


def _linked_file(tmp_path: Path) -> tuple[watchset.WatchSet, Path]:
    """A WatchSet of a worktree (top, sub/) whose top holds lib.so, linked from outside, as
    its look found it."""
    top = tmp_path / "wt"
    (top / "sub").mkdir(parents=True)
    (top / "sub" / ".env").write_bytes(MINE)
    (tmp_path / "lib.so").write_bytes(b"lib\n")
    os.link(tmp_path / "lib.so", top / "lib.so")
    ws = _watchset(top)
    ws.setup(frozenset())
    assert set(ws.linked) == {str(top)} and ws.unknown_at is None
    return ws, top


@pytest.mark.parametrize("how", ["look at every folder", "a round of checks"])
def test_a_link_made_is_unknown_until_every_folder_was_looked_at(tmp_path: Path, how: str) -> None:
    """`ln sub/.env copy` in the linked top (an event for copy alone): OTHERS_UNKNOWN is
    published until a look at every folder, or a round of check()'s begun after the link,
    found sub/.env (sub linked then); a round begun before the link does not end it."""
    ws, top = _linked_file(tmp_path)
    if how == "a round of checks":
        ws.check(time.monotonic())  # (a round begun before the link)
        assert ws.check_todo
    os.link(top / "sub" / ".env", top / "copy")
    assert not ws.new_links(set(), {str(top / "copy")})  # (the top was linked: no look asked)
    news = ws.linked_news()
    assert news is not None and dirtyset.OTHERS_UNKNOWN in news
    if how == "look at every folder":
        ws.look_all()
    else:
        ws.check(time.monotonic() + 10 * ws.check_period())  # (the round begun before ends)
        assert not ws.check_todo and ws.unknown_at is not None
        ws.check(time.monotonic() + 20 * ws.check_period())  # (a whole round after the link)
    assert ws.unknown_at is None
    news = ws.linked_news()
    assert news is not None and dirtyset.OTHERS_UNKNOWN not in news
    assert news.get(str(top / "sub")) == frozenset({".env"})
