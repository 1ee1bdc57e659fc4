"""RED32 (red team D, finding 1): overlays written from git's objects hold the user's bytes.

git's autostash (``rebase/merge/pull --autostash``) and a stash entry ``git snapshot run --
git stash drop`` guards keep the user's files as git stores them: a clean filter's output (git
lfs works the same way), LF where the user had CRLF (``eol=crlf``, ``core.autocrlf``). The
overlays wrote those blobs raw, so the snapshots held the repository form: the pasted restore
wrote ``HELLO EDITED`` and LF over the user's ``hello edited`` and CRLF. Now each such file is
written as ``git checkout`` writes it (git's own conversion); a repository without any
attributes asks git nothing more than before.
"""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from clihelpers import run
from conftest import init_repo
from hookhelpers import commit
from hookhelpers import install
from hookhelpers import put_venv_on_path
from hookhelpers import restore
from hookhelpers import saved
from hookhelpers import snaps
from hookhelpers import write

from git_snapshot import gitoverlay
from git_snapshot import gitrepo

EDIT_UP = b"hello edited\n"  # stored by the clean filter as "HELLO EDITED\n"
EDIT_TXT = b"l1\r\nl2 edited\r\n"  # stored as "l1\nl2 edited\n"


def _filtered(r: Path) -> None:
    """*r*: a clean/smudge filter on *.up (clean upper-cases, smudge lower-cases) and CRLF
    text files, committed (x.up, c.txt, a)."""
    git(r, "config", "filter.up.clean", "tr a-z A-Z")
    git(r, "config", "filter.up.smudge", "tr A-Z a-z")
    write(r / ".gitattributes", b"*.up filter=up\n*.txt text eol=crlf\n")
    write(r / "x.up", b"hello\n")
    write(r / "c.txt", b"l1\r\nl2\r\n")
    write(r / "a", b"a\n")
    git(r, "add", ".")
    git(r, "commit", "-qm", "c1")


@pytest.fixture
def filtered(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A feature branch behind main, hooks installed, the filter and eol attributes set."""
    put_venv_on_path(monkeypatch)
    r = init_repo(tmp_path / "r")
    _filtered(r)
    install(r)
    git(r, "checkout", "-qb", "feat")
    commit(r, "f", b"f\n")
    git(r, "checkout", "-q", "main")
    commit(r, "m", b"m\n")
    git(r, "checkout", "-q", "feat")
    return r


def test_rebase_autostash_snapshots_hold_the_users_bytes(filtered: Path, tmp_path: Path) -> None:
    r = filtered
    write(r / "x.up", EDIT_UP)
    write(r / "c.txt", EDIT_TXT)
    git(r, "rebase", "--autostash", "main")
    assert (r / "x.up").read_bytes() == EDIT_UP and (r / "c.txt").read_bytes() == EDIT_TXT
    taken = [s for s in snaps(r) if s["trigger"] in ("pre-rebase", "post-rewrite")]
    assert len(taken) == 2, snaps(r)
    for s in taken:
        files = saved(r, s["id"], tmp_path)
        assert (files["x.up"], files["c.txt"]) == (EDIT_UP, EDIT_TXT), s

    ran = git(r, "checkout", "-f")  # the user throws the edits away; the report's restore
    (rep,) = ran.reports
    restore(r, rep)
    assert (r / "x.up").read_bytes() == EDIT_UP and (r / "c.txt").read_bytes() == EDIT_TXT


def test_stash_drop_under_run_saves_the_entry_as_pop_would_write_it(filtered: Path) -> None:
    r = filtered
    write(r / "x.up", b"hello stash\n")
    write(r / "c.txt", b"l1\r\nstash\r\n")
    git(r, "stash", "-q")
    ran = gs(r, "run", "--", "git", "stash", "drop")
    (cmd,) = [ln.split("restore with: ", 1)[1] for ln in ran.said if "dropped stash@{0}" in ln]
    argv = shlex.split(cmd)
    assert argv[:3] == ["git", "snapshot", "restore"] and "--to" in argv, ran.said
    run(r, *argv)
    to = r / argv[argv.index("--to") + 1]
    assert (to / "x.up").read_bytes() == b"hello stash\n"
    assert (to / "c.txt").read_bytes() == b"l1\r\nstash\r\n"
    assert (to / "a").read_bytes() == b"a\n"


def test_core_autocrlf_alone_converts_too(tmp_path: Path) -> None:
    """No attribute file at all, core.autocrlf true: checkout writes CRLF, so must we."""
    r = init_repo(tmp_path / "r")
    git(r, "config", "core.autocrlf", "true")
    write(r / "t", b"one\r\ntwo\r\n")
    write(r / "bin", b"\x00\r\nraw")
    git(r, "add", ".")
    git(r, "commit", "-qm", "c")
    repo = gitrepo.find_repo(str(r))
    dest = tmp_path / "out"
    written = gitoverlay.write_tree(repo, "HEAD", str(dest))
    assert sorted(written) == [b"bin", b"t"]
    assert (dest / "t").read_bytes() == b"one\r\ntwo\r\n"
    assert (dest / "bin").read_bytes() == b"\x00\r\nraw"


def test_exec_bit_and_symlink_kept_through_the_conversion(tmp_path: Path) -> None:
    r = init_repo(tmp_path / "r")
    _filtered(r)
    write(r / "run.up", b"#!/bin/sh\necho hi\n", 0o755)
    (r / "link.up").symlink_to("x.up")
    git(r, "add", ".")
    git(r, "commit", "-qm", "more")
    repo = gitrepo.find_repo(str(r))
    dest = tmp_path / "out"
    gitoverlay.write_tree(repo, "HEAD", str(dest))
    assert (dest / "run.up").read_bytes() == b"#!/bin/sh\necho hi\n"
    assert (dest / "run.up").stat().st_mode & 0o777 == 0o755
    assert (dest / "x.up").stat().st_mode & 0o777 == 0o644
    assert (dest / "link.up").is_symlink() and (dest / "link.up").readlink() == Path("x.up")
    assert (dest / "c.txt").read_bytes() == b"l1\r\nl2\r\n"


def test_without_attributes_git_is_not_asked_about_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The usual repository: no attribute file anywhere, no core.autocrlf: the blobs are
    written raw by the one cat-file, as before (no temporary index, no checkout-index)."""
    r = init_repo(tmp_path / "r")
    write(r / "d/t", b"one\r\n")
    git(r, "add", ".")
    git(r, "commit", "-qm", "c")

    monkeypatch.setenv("GIT_ATTR_NOSYSTEM", "1")  # (whatever this machine's /etc holds)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))

    def boom(*_: object, **__: object) -> object:
        raise AssertionError("the conversion path taken in a repository without attributes")

    monkeypatch.setattr(gitoverlay, "_checkout", boom)
    repo = gitrepo.find_repo(str(r))
    dest = tmp_path / "out"
    gitoverlay.write_tree(repo, "HEAD", str(dest))
    assert (dest / "d/t").read_bytes() == b"one\r\n"
