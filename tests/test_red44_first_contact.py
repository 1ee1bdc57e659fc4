"""RED44 F7, F8: a newcomer's first commands.

- `git snapshot cat 1:README.md` (git's REV:PATH habit) failed with argparse's "required:
  PATH", and `show 1:.env` said "no repository called '1'": both now read ID:PATH when the
  part before ':' is a plain ID and the rest none (a qualified ID, `myrepo:12`, is as it was);
- `git snapshot find README` said no snapshot holds it, README.md in every one: the glob is on
  the whole name (DESIGN.md: a glob), and the line now says so, with the search that finds it;
- `install` with a store it refuses said "start it with: git snapshot watch", which fails the
  same way: it now says to do what the refusal says first.
"""

from __future__ import annotations

from pathlib import Path

from clihelpers import gs
from hookhelpers import install


def _one(repo: Path) -> None:
    (repo / "README.md").write_bytes(b"# hello\n")
    (repo / ".env").write_bytes(b"SECRET=1\n")
    (repo / "NOTES.md").write_bytes(b"notes\n")
    (repo / ".gitignore").write_bytes(b".env\n")
    install(repo)
    gs(repo, "create", "-m", "first")


def test_cat_takes_git_s_rev_colon_path(repo: Path) -> None:
    _one(repo)
    assert gs(repo, "cat", "1:README.md").out == "# hello\n"
    assert gs(repo, "cat", "latest:README.md").out == "# hello\n"
    assert gs(repo, "cat", "latest~0:.env").out == "SECRET=1\n"
    assert gs(repo, "cat", "@{now}:README.md").out == "# hello\n"
    assert gs(repo, "cat", "--", "1:README.md").out == "# hello\n"
    assert gs(repo, "cat", "1", "README.md").out == "# hello\n"  # DESIGN's form, as it was
    sub = repo / "sub"
    sub.mkdir()
    assert gs(sub, "cat", "1:../README.md").out == "# hello\n"  # as typed here, as PATH is


def test_show_takes_git_s_rev_colon_path(repo: Path) -> None:
    _one(repo)
    out = gs(repo, "show", "1:.env").out
    assert ".env" in out and "README.md" not in out, out


def test_a_qualified_id_is_still_one(repo: Path) -> None:
    """`NAME:12` names a repository's snapshot: never read as ID:PATH."""
    _one(repo)
    ran = gs(repo, "show", "nosuchrepo:1", rc=None)
    assert ran.rc != 0 and "no repository called 'nosuchrepo'" in ran.err, ran
    ran = gs(repo, "cat", "1:2", rc=None)  # (repository '1', snapshot 2; PATH missing)
    assert ran.rc != 0 and "required: PATH" in ran.err, ran


def test_find_by_a_name_s_start_says_the_glob_is_on_the_whole_name(repo: Path) -> None:
    _one(repo)
    out = gs(repo, "find", "NOTES").out
    assert out.startswith("no snapshot holds a path matching 'NOTES'"), out
    assert "git snapshot find '*NOTES*'" in out, out
    assert len(out.splitlines()) == 1
    assert "NOTES.md" in gs(repo, "find", "*NOTES*").out
    # nothing would match either way: the line as it was
    assert gs(repo, "find", "nothing").out.strip() == (
        "no snapshot holds a path matching 'nothing'"
    )


def test_install_with_a_refused_store_says_what_to_do_first(repo: Path) -> None:
    ran = gs(repo, "install", GIT_SNAPSHOT_ALLOW_EPHEMERAL="0", GIT_SNAPSHOT_WATCH="1")
    (line,) = [ln for ln in (ran.out + ran.err).splitlines() if "watcher: not started" in ln]
    assert "refusing to keep snapshots" in line, line
    assert line.endswith("once that is done, start it with: git snapshot watch"), line
