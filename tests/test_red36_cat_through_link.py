"""RED36 B5(c): ``cat 1 selflink/a.txt`` (a path through a symbolic link the snapshot holds)
said "see its versions with: git snapshot log selflink/a.txt", and that log found it in none
of the snapshots: a hint that led nowhere. A snapshot keeps the link, not what it leads to;
cat now says so and names the link."""

from __future__ import annotations

import os
from pathlib import Path

from clihelpers import gs
from hookhelpers import install


def test_cat_through_a_link_names_the_link(repo: Path) -> None:
    install(repo)
    (repo / "a.txt").write_text("a\n")
    os.symlink(".", repo / "selflink")
    (repo / "sub").mkdir()
    os.symlink("../sub", repo / "sub" / "up")
    gs(repo)
    for path, link in (("selflink/a.txt", "selflink"), ("sub/up/x/y", "sub/up")):
        r = gs(repo, "cat", "1", path, rc=None)
        assert r.rc != 0
        assert "git snapshot log" not in r.err, r.err
        assert f"through {link} (from the worktree's top), a symbolic link in snapshot 1" in r.err
    # a path that is simply not there keeps its hint
    r = gs(repo, "cat", "1", "nothere/a.txt", rc=None)
    assert "see its versions with: git snapshot log nothere/a.txt" in r.err, r.err
