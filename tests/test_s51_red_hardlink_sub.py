"""Red team of 48c7dfb, left open in s51, fixed in s52 (review s51red, section B): a link made
in a folder not known linked, its other name in a folder below (`ln sub/.env copy`), and a
write through it, then git writing sub/.env, all before the look at every folder it asks for
(LOOK_ALL_S, 1 s; the hook's sync asks for it after git wrote). Before 48c7dfb the top folder,
linked at once by copy's event, lay above sub/.env and set the tree aside; 48c7dfb asked
sub/.env's own folder, linked by no one until that look: sub/.env was named from the tree
(MINE, not the user's last version). Now a link whose other names no look has found sets
every tree begun before that look aside (dirtyset.ALL, s52)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from conftest import init_repo
from hookhelpers import put_venv_on_path
from hookhelpers import snaps
from prephelpers import past_a_tick
from test_pl48_look_explained import _daemon
from test_pl48_look_explained import _git_beside
from test_pl48_look_explained import _look_now
from test_pl48_look_explained import _read
from test_red48_new_ignored_prepared import THEIRS
from test_s51_hardlink_env import MINE
from test_s51_hardlink_env import NEVER
from test_s51_hardlink_env import _link
from test_s51_hardlink_env import _linked
from test_s51_hardlink_env import _prepared_now
from test_watch_daemon import add

from git_snapshot.watch import config as wconfig

NEWER = b"SECRET=newer, through the link made in the worktree\n"


def _sub_env_repo(tmp_path: Path, store_dir: Path) -> Path:
    r = Path(os.path.realpath(init_repo(tmp_path / "wt")))
    (r / ".gitignore").write_text(".env\n")
    (r / "sub").mkdir()
    (r / "sub" / "a.txt").write_text("a\n")
    git(r, "add", ".")
    git(r, "commit", "-q", "-m", "init")
    git(r, "switch", "-q", "-c", "feat")
    (r / "sub" / ".env").write_bytes(THEIRS)
    git(r, "add", "-f", "sub/.env")
    git(r, "commit", "-q", "-m", "feat tracks sub/.env")
    git(r, "switch", "-q", "main")
    ran = gs(r, "install", GIT_SNAPSHOT_WATCH="0")
    assert "reference-transaction: installed" in ran.out + ran.err, ran
    gs(r, "create", "-m", "before .env")
    add(store_dir, r)
    return r


@pytest.mark.skipif(not os.path.exists("/proc/sys/fs/inotify"), reason="inotify only")
@pytest.mark.parametrize("looked", [False, True])
@pytest.mark.parametrize("top", ["not linked", "linked"])
def test_a_link_made_above_names_the_file_below_it_links(
    tmp_path: Path, store_dir: Path, monkeypatch: pytest.MonkeyPatch, top: str, looked: bool
) -> None:
    """*top* "linked": the top folder already held a file with other names (lib.so, from
    outside), so copy's event asks for no look at every folder at all (9a83c20 published the
    linked top whole; sub, not linked, was not): the same report until the periodic look.
    *looked*: a look at every folder after the write through copy, before git began (it
    ends the set-aside for a git command begun after it): it names sub/.env and marks its
    change, which set the tree aside."""
    put_venv_on_path(monkeypatch)
    r = _sub_env_repo(tmp_path, store_dir)
    if top == "linked":
        _link(r, "outside")
    cfg = wconfig.WatchConfig(quiet=NEVER, max_delay=NEVER, prepare=0.1)
    with _daemon(store_dir, r, cfg) as d:
        (r / "sub" / ".env").write_bytes(MINE)
        _read(d)
        if top == "linked":
            _look_now(d, r)
            assert _linked(store_dir, r) == {b"": frozenset({b"lib.so"})}  # (the case tested)
        _prepared_now(d, store_dir, r, "sub/.env", MINE)
        d.trees[str(r)].ws.looked_at = time.monotonic()  # (the last look at every folder)
        os.link(r / "sub" / ".env", r / "copy")
        _read(d)
        (r / "copy").write_bytes(NEWER)
        _read(d)
        d.flush_marks()
        if looked:
            _look_now(d, r)
            assert d.trees[str(r)].ws.unknown_at is None  # (the case tested)
        past_a_tick()
        ran = _git_beside(d, r, "checkout", "feat")
    assert ran.reports == [], ran.err  # (was: sub/.env named from the tree, MINE)
    taken = snaps(r)
    assert "prepared" not in {s["trigger"] for s in taken}
    assert (r / "copy").read_bytes() == NEWER
    # the hook's own snapshot holds the user's last version, at the name left (copy's events)
    assert taken[-1]["trigger"] == "post-checkout", taken[-1]
    assert gs(r, "cat", f"{taken[-1]['id']}:copy").out.encode() == NEWER
