"""Session 44 (review RT43, "Hostile names"): a path holding a newline was never asked of git
(gitextra.check_attr and clean_ids left it out: "--stdin cannot take it", though
``check-attr -z --stdin`` takes any name and ``hash-object --stdin --path=NAME`` is one
process per name anyway). So a CRLF file named ``a\\nb.txt`` under ``* text eol=crlf``,
saved untracked, ``git add``ed (git stores LF) and deleted by ``git checkout -f`` as a staged
new file, was missing from the hook's loss report, while ``ab.txt`` was named. The sweep
after it: clean_path_ids (``hash-object --stdin-paths``, a line per name, a leading `"`
unquoted), gitoverlay.written_otherwise and gitextra.smudged (LF bytes under `eol=crlf`),
stashedstore (a store path with a newline) and gitextra.as_user_env (a worktree path with a
newline, GIT_DIR set).

Real git, the plain hooks installed as a user installs them.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from conftest import committed_repo
from hookhelpers import commit
from hookhelpers import install
from hookhelpers import write
from test_red43_eol_hooks_dropped import _repo
from test_review43_rt43_dropped_eol import _dropped
from test_review43_rt43_dropped_eol import _names


@pytest.mark.parametrize("name", [b"a\nb.txt", b"a\n", b"\nlead.txt", b't\tq"b\\s\n\xff.txt'])
def test_a_staged_crlf_file_with_a_newline_in_its_name_is_named(repo: Path, name: bytes) -> None:
    _dropped(_repo(repo, b"* text eol=crlf\n"), name, b"new\r\nline\r\n")


def test_the_same_through_a_clean_filter(repo: Path) -> None:
    git(repo, "config", "filter.up.clean", "tr a-z A-Z")
    git(repo, "config", "filter.up.smudge", "cat")
    _dropped(_repo(repo, b"* filter=up\n"), b"new\nfile.txt", b"new text\n")


def _overwritten(r: Path, names: list[bytes]) -> None:
    """d/NAME for each of *names* committed under `* text eol=crlf` (git stores LF, writes
    CRLF), edited and saved; `checkout -f` writes each back as committed: each edit named."""
    for name in names:
        commit(r, os.fsdecode(b"d/" + name), b"one\r\n")
    for name in names:
        write(r / os.fsdecode(b"d/" + name), b"edit\r\n")
    gs(r, "create", "-m", "before")
    ran = git(r, "checkout", "-f")
    for name in names:
        assert (r / os.fsdecode(b"d/" + name)).read_bytes() == b"one\r\n"
    assert _names(r) == sorted(b"d/" + n for n in names), ran.err


@pytest.mark.parametrize("name", [b"a\nb.txt", b't\tq"b\\s\n\xff.txt', b'"q\n', b"cr.txt\r"])
def test_an_edit_git_wrote_over_in_a_converted_file_with_a_newline_is_named(
    repo: Path, name: bytes
) -> None:
    """hooks' "what did git write" asks git's id of the file as stored (clean_path_ids,
    ``hash-object --stdin-paths``, which reads lines): a name with a newline was left out, so
    the CRLF file git wrote was not taken as git's, and the edit it replaced not named."""
    _overwritten(_repo(repo, b"* text eol=crlf\n"), [name])


def test_a_name_starting_with_a_double_quote_hides_no_other_file(repo: Path) -> None:
    """Guard (passes before the fix too: a later per-file hash-object rescued it here):
    ``hash-object --stdin-paths`` unquotes a line starting with `"` and dies on one that
    is badly quoted ("line is badly quoted"): a file named `"q.txt` made clean_path_ids
    answer nothing for every file of the checkout, and the edit git wrote over in
    d/keep.txt went unnamed with it."""
    _overwritten(_repo(repo, b"* text eol=crlf\n"), [b'"q.txt', b"keep.txt"])


@pytest.mark.parametrize("how", ["reset", "checkoutf"])
@pytest.mark.parametrize("name", ["a\nb.txt", " a\nb.txt"])
def test_lf_bytes_git_writes_back_as_crlf_in_a_name_with_a_newline_are_named(
    repo: Path, how: str, name: str
) -> None:
    """Session 42's miss (LF bytes under `eol=crlf` are git's blob byte for byte, and git
    writes them back CRLF) for a name holding a newline: gitoverlay.written_otherwise left
    such a name out, so the LF bytes were taken as what git gives back, and not named. With
    a leading blank too (which git's batch strips: gitextra.smudged asks such a name with a
    process of its own, and left one holding a newline out)."""
    (repo / ".gitattributes").write_bytes(b"*.txt text eol=crlf\n")
    (repo / name).write_bytes(b"one\ntwo\n")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "c1")
    git(repo, "checkout", "-q", "-b", "B")
    (repo / name).write_bytes(b"one\ntwo\nthree\n")
    git(repo, "commit", "-q", "-am", "c2")
    git(repo, "checkout", "-q", "-f", "main")
    install(repo)
    (repo / name).write_bytes(b"one\ntwo\n")
    gs(repo, "-m", "before")
    if how == "reset":
        ran = gs(repo, "run", "--", "git", "reset", "-q", "--hard")
    else:
        ran = git(repo, "checkout", "-q", "-f", "B")
    assert b"\r\n" in (repo / name).read_bytes()  # git wrote CRLF
    assert _names(repo) == [os.fsencode(name)], ran.err
    gs(repo, "undo")
    assert (repo / name).read_bytes() == b"one\ntwo\n"


def test_a_store_with_a_newline_in_its_path_taken_by_a_stash_is_found(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """stashedstore._stash_holding asked git's cat-file one name a line and so left a store
    path holding a newline out: after a plain `git stash -u` took such a store whole, the
    next hook made an empty store in its place (every snapshot out of reach: `stash pop`
    then refuses, "already exists"), where another path is refused with the stash entry to
    pop (red41R2 S1). Asked with ``cat-file -z`` now."""
    odd = str(repo / "st\nore")
    monkeypatch.setenv("GIT_SNAPSHOT_STORE", odd)
    install(repo)
    gs(repo, "-m", "first")
    (repo / "README").write_text("edited\n")
    git(repo, "stash", "-u", "-q")
    assert not os.path.lexists(odd)
    (repo / "README").write_text("edited again\n")
    git(repo, "stash", "-q")  # the store's entry is stash@{1} now
    ran = git(repo, "checkout", "-q", "-b", "next", rc=None)
    assert "stash pop stash@{1}" in ran.err, ran.err  # (git's "missing" lines hold the name)
    assert not os.path.lexists(odd), ran.err
    git(repo, "stash", "pop", "-q", "stash@{1}")
    assert [ln.split()[-1] for ln in gs(repo, "list").out.splitlines()[1:]] == ["first"]


@pytest.mark.parametrize("how", ["git_dir", "both"])
def test_git_dir_set_in_a_worktree_whose_path_holds_a_newline(tmp_path: Path, how: str) -> None:
    """With GIT_DIR (and GIT_WORK_TREE) set to this very repository, as `git --git-dir=...
    snapshot` or a `!` alias sets them, commands check that git works on the repository they
    found (commands.common._same_as_git): gitextra.as_user_env read rev-parse's two paths a
    line each, and for a worktree whose path holds a newline found none, so every command
    was refused ("git works elsewhere")."""
    r = committed_repo(tmp_path / "w\nx")
    gs(r, "create", "-m", "first")
    env = {"GIT_DIR": str(r / ".git")} | ({"GIT_WORK_TREE": str(r)} if how == "both" else {})
    ran = gs(r, "list", rc=None, **env)
    assert ran.rc == 0 and "first" in ran.out, ran.err
