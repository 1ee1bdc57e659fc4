"""Red team of s52's link52 (8cd27ee4, f728d884): a session-51 hook reading the dirty set of
this session's daemon (two installs sharing one store: each repository's hook runs the code it
was installed from, the one daemon of the store another's).

Session 51's daemon (9a83c20) published every linked folder whole while a link's other names
were unknown, and session 51's hook relied on it: `ln .env copy` in a top already linked (lib.so
from outside: its names known, .env not among them), a write through copy, then `git checkout`
writing .env: the top counted whole, the tree (SECRET=mine, older than what copy holds) was set
aside. This session's daemon publishes instead linked_names' row ALL '' (which a session-51
hook reads as a folder no path lies in) and the top's names {lib.so, copy}: the session-51 hook
judges .env by them, takes it for a file of one name, and names the tree's older version.

Session 51's code: `git archive c0ea24b8 src` (the commit before s52's), its prep.changed_since
run in a subprocess on the dirty set this session's code wrote."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from test_review48_look_coarse import _watchset
from test_s51_hardlink_env import MINE

from git_snapshot.watch import dirtyset

S51 = "c0ea24b8"
REPO = Path(__file__).resolve().parent.parent

_ASK = """
import sys
from git_snapshot.watch import prep
store, top, began, git = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
p = prep.Prep(b"", "", "", "", 0, 0, [], None, {})
p.seq, p.began = 0, began
print(prep.changed_since(store, top, p, git, {b".env"}))
"""


def _s51_aside(old: Path, store: str, top: Path, began: float) -> bool:
    env = {**os.environ, "PYTHONPATH": str(old / "src")}
    out = subprocess.run(
        [sys.executable, "-c", _ASK, store, str(top), repr(began), repr(time.time())],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return {"True": True, "False": False}[out[-1]]


def test_a_session_51_hook_sets_aside_the_tree_after_a_link_in_a_linked_folder(
    tmp_path: Path,
) -> None:
    old = tmp_path / "s51"
    old.mkdir()
    tar = subprocess.run(["git", "-C", str(REPO), "archive", S51, "src"], capture_output=True)
    assert tar.returncode == 0, tar.stderr
    subprocess.run(["tar", "-x", "-C", str(old)], input=tar.stdout, check=True)
    store, top = str(tmp_path / "store"), tmp_path / "wt"
    top.mkdir()
    (top / ".env").write_bytes(MINE)
    (tmp_path / "lib.so").write_bytes(b"lib\n")
    os.link(tmp_path / "lib.so", top / "lib.so")
    ws = _watchset(top)
    ws.setup(frozenset())
    dirtyset.watching(store, str(top), linked=dict(ws.linked))
    began = time.time()  # (the tree: SECRET=mine)
    time.sleep(0.01)
    assert not _s51_aside(old, store, top, began)  # (.env one name: named from the tree)
    os.link(top / ".env", top / "copy")  # (an event for copy alone)
    assert not ws.new_links(set(), {str(top / "copy")})
    news = ws.linked_news()
    assert news is not None and dirtyset.OTHERS_UNKNOWN in news
    dirtyset.set_linked(store, str(top), news)
    (top / "copy").write_bytes(b"SECRET=newer\n")  # (through copy: .env holds it too)
    # git writes .env now, before any look: the session-51 hook asks
    assert _s51_aside(old, store, top, began)  # (fails: False, SECRET=mine named)


def test_a_folder_published_whole_for_older_hooks_is_judged_by_its_names_here(
    tmp_path: Path,
) -> None:
    """While a link's other names are unknown, every named linked folder is published whole
    too (for session 51's hooks), with ALL's WHOLE row; once ended, this code's hooks skip
    that row (judged by the names, and by ALL UNKNOWN against git's start: f728d884's case,
    a tree begun before the link elsewhere, the look before git: not set aside); a folder's
    own whole row ended before is kept as it was; the rows deleted after GONE_KEPT_S add
    nothing to DELETED's cut."""
    store, top = str(tmp_path / "store"), tmp_path / "wt"
    top.mkdir()
    dirtyset.watching(store, str(top))
    began = time.time()
    dirtyset.set_linked(store, str(top), {str(top): frozenset({"lib.so"}), str(top / "w"): None})
    dirtyset.set_linked(store, str(top), {str(top): frozenset({"lib.so"})})  # (w: gone)
    dirtyset.set_linked(store, str(top), {str(top): frozenset({"lib.so"}), str(top / "v"): None})
    v = {str(top / "v"): frozenset({"a"})}
    dirtyset.set_linked(store, str(top), {str(top): frozenset({"lib.so"}), **v})
    with dirtyset._db(store, str(top)) as con:
        sql = "SELECT gone FROM linked_names WHERE dir = ? AND name = x''"
        (v_gone,) = con.execute(sql, (b"v",)).fetchone()
    unknown = {str(top): frozenset({"lib.so", "copy"}), **v, dirtyset.OTHERS_UNKNOWN: None}
    dirtyset.set_linked(store, str(top), unknown)
    with dirtyset._db(store, str(top)) as con:
        assert con.execute(sql, (b"v",)).fetchone() == (v_gone,)  # (its own: kept)
    with dirtyset._db(store, str(top)) as con:
        assert dirtyset.linked_names(con, began)[b""] is None  # (while unknown: whole)
    assert _aside(store, top, began, b".env")
    during = time.time()
    dirtyset.set_linked(store, str(top), {str(top): frozenset({"lib.so", "copy", ".env"}), **v})
    after = time.time() + 0.001
    with dirtyset._db(store, str(top)) as con:
        got = dirtyset.linked_names(con, began)
        assert got[b""] == frozenset({b"lib.so", b"copy", b".env"}), got
        assert got[b"w"] is None and got[b"v"] is None  # (their own whole rows, gone: kept)
    assert not _aside(store, top, began, b"x.txt", git=after)
    assert _aside(store, top, began, b"x.txt", git=during)  # (git before the look: UNKNOWN)
    # an hour later: the rows of that period deleted, DELETED's cut only w's and v's gone
    with dirtyset._db(store, str(top)) as con:
        con.execute("UPDATE linked_names SET gone = gone - ? WHERE gone > 1", (1.5 * 3600,))
        (w_gone,) = con.execute(sql, (b"w",)).fetchone()
        (v_gone,) = con.execute(sql, (b"v",)).fetchone()
    dirtyset.set_linked(store, str(top), {str(top): frozenset({"lib.so", "copy", ".env"})})
    with dirtyset._db(store, str(top)) as con:
        rows = con.execute("SELECT dir, name, gone FROM linked_names").fetchall()
    assert {(bytes(d), bytes(n)) for d, n, _ in rows if bytes(d) == dirtyset.ALL} == {
        (dirtyset.ALL, dirtyset.DELETED),
        (dirtyset.ALL, dirtyset.UNKNOWN),
    }, rows
    (cut,) = [g for d, n, g in rows if bytes(n) == dirtyset.DELETED]
    assert cut == max(w_gone, v_gone)  # (not the top's row of the UNKNOWN period)


def _aside(store: str, top: Path, began: float, *paths: bytes, git: float | None = None) -> bool:
    from git_snapshot.watch import prep

    with dirtyset._db(store, str(top)) as con:
        con.execute("DELETE FROM marks")
    p = prep.Prep(b"", "", "", "", 0, 0, [], None, {})
    p.seq, p.began = 0, began
    return prep.changed_since(store, str(top), p, time.time() if git is None else git, set(paths))
