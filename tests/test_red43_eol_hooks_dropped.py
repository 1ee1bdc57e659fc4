"""Session 43 (review RQ43, "hooks.py: two real misses under eol=crlf", item 1):
post-checkout's gitwrote._git_dropped takes a file gone after `checkout -f` that a snapshot
labels untracked for one git deleted only when it was staged since: its blob a loose object
written since the snapshot. It compared the raw id of the snapshot's bytes with those blobs.
Under `*.txt text eol=crlf` (or `* text=auto`) the user writes d/new.txt with CRLF, a
snapshot saves it untracked, `git add` stores it with LF, and `git checkout -f` deletes the
staged new file: its only copy is in the snapshot, and the report named d/keep.txt alone
(without an attribute it is named: git stores the CRLF bytes as they are).

The bytes as git stores them (its eol conversion, a clean filter: hash-object --path) are
now compared too, only for files whose raw bytes matched nothing and only where git may
convert what it stores (no git process in the usual repository).

Real git, the plain hooks installed as a user installs them.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from conftest import committed_repo
from hookhelpers import CRLF_RULE
from hookhelpers import commit
from hookhelpers import install
from hookhelpers import named_once
from hookhelpers import not_the_commands
from hookhelpers import write

_PROCESS = re.compile(r"trace: (?:built-in|exec|run_command): git (\S+)")


def _repo(repo: Path, attributes: bytes) -> Path:
    """d/keep.txt committed (CRLF), *attributes* committed; hooks in."""
    if attributes:
        commit(repo, ".gitattributes", attributes)
    commit(repo, "d/keep.txt", b"k\r\n")
    install(repo)
    return repo


@pytest.mark.parametrize("attributes", [CRLF_RULE, b"* text=auto\n", b""])
def test_a_staged_crlf_file_checkout_f_deleted_is_named(repo: Path, attributes: bytes) -> None:
    r = _repo(repo, attributes)
    write(r / "d" / "new.txt", b"new\r\n")
    write(r / "d" / "keep.txt", b"edit\r\n")
    gs(r, "create", "-m", "before")  # d/new.txt: untracked
    git(r, "add", "d/new.txt")
    ran = git(r, "checkout", "-f")
    assert not (r / "d" / "new.txt").exists()  # git deleted the staged new file
    assert "d/new.txt" in ran.err, ran.err
    assert named_once(r) == ["d/keep.txt", "d/new.txt"]
    gs(r, "undo")
    assert (r / "d" / "new.txt").read_bytes() == b"new\r\n"


@pytest.mark.parametrize("autocrlf", ["true", "input"])
def test_the_same_under_core_autocrlf_without_an_attribute_file(repo: Path, autocrlf: str) -> None:
    """No attribute file: core.autocrlf alone makes `git add` store the CRLF bytes as LF."""
    git(repo, "config", "core.autocrlf", autocrlf)
    r = _repo(repo, b"")
    write(r / "d" / "new.txt", b"new\r\n")
    gs(r, "create", "-m", "before")
    git(r, "add", "d/new.txt")
    ran = git(r, "checkout", "-f")
    assert not (r / "d" / "new.txt").exists()
    assert named_once(r) == ["d/new.txt"], ran.err


def test_an_untracked_crlf_file_the_user_deleted_is_not_named(repo: Path) -> None:
    """Guard: d/mine.txt (CRLF, untracked, saved) the user removed; d/new.txt staged since;
    `checkout -f` deletes d/new.txt and writes d/keep.txt: d/mine.txt is not git's loss."""
    r = _repo(repo, CRLF_RULE)
    write(r / "d" / "mine.txt", b"mine\r\n")
    write(r / "d" / "new.txt", b"new\r\n")
    write(r / "d" / "keep.txt", b"edit\r\n")
    gs(r, "create", "-m", "before")
    (r / "d" / "mine.txt").unlink()
    git(r, "add", "d/new.txt")
    ran = git(r, "checkout", "-f")
    assert not_the_commands(ran, "d/mine.txt"), ran.err
    assert named_once(r) == ["d/keep.txt", "d/new.txt"]


def test_crlf_bytes_git_gives_back_are_not_named(repo: Path) -> None:
    """Guard: d/new.txt (CRLF, saved untracked) staged and committed since; a checkout of the
    commit before deletes it, and git writes it back as these CRLF bytes: no loss."""
    r = _repo(repo, CRLF_RULE)
    write(r / "d" / "new.txt", b"new\r\n")
    gs(r, "create", "-m", "before")
    git(r, "add", "d/new.txt")
    git(r, "commit", "-q", "-m", "new")
    ran = git(r, "checkout", "-q", "HEAD~1")
    assert not (r / "d" / "new.txt").exists()
    assert ran.reports == [], ran.err


# the git processes of the check of files gone since (findlosses._gone_not_by_it: one losses.find
# for all of them), started only when a report is printed and such a file is there
GONE_CHECK = Counter({"ls-files": 2, "cat-file": 2, "log": 1, "rev-list": 1})


def _processes(r: Path, trace: Path, mine: bytes | None) -> list[str]:
    """The git commands of `checkout -f` and its hooks (deleting the staged d/new.txt,
    writing the edited d/keep.txt), where the user removed the saved untracked d/mine.txt
    (*mine*) or never made it (None)."""
    if mine is not None:
        write(r / "d" / "mine.txt", mine)
    write(r / "d" / "new.txt", b"new\r\n")
    write(r / "d" / "keep.txt", b"edit\r\n")
    gs(r, "create", "-m", "before")
    if mine is not None:
        (r / "d" / "mine.txt").unlink()
    git(r, "add", "d/new.txt")
    ran = git(r, "checkout", "-f", GIT_TRACE=str(trace))
    assert "d/new.txt" in ran.err, ran.err
    assert not_the_commands(ran, "d/mine.txt") if mine is not None else "d/mine.txt" not in ran.err
    return [m[1] for m in map(_PROCESS.search, trace.read_text().splitlines()) if m]


def test_no_attributes_no_git_process_for_an_untracked_file_the_user_deleted(
    tmp_path: Path,
) -> None:
    """Guard (cost): in a repository without attributes, a file the user deleted whose raw
    bytes are no staged blob starts no git process of its own (no check-attr, no
    hash-object): the hooks run the same commands as without it, but for the one fixed set
    of the check of files gone since (red44 F5b: losses.find asked once for all of them,
    only when a report is printed anyway)."""
    plain = _processes(_repo(committed_repo(tmp_path / "a"), b""), tmp_path / "ta", None)
    mine = _processes(_repo(committed_repo(tmp_path / "b"), b""), tmp_path / "tb", b"mine\r\n")
    more, fewer = Counter(mine) - Counter(plain), Counter(plain) - Counter(mine)
    assert more == GONE_CHECK and not fewer, (more, fewer)  # (counted: some run in parallel)


def test_a_staged_file_a_clean_filter_stored_otherwise_checkout_f_deleted_is_named(
    repo: Path,
) -> None:
    """The same with a clean filter (upper-casing, of another size than the file's line ends
    could make it): git stores `NEW`, the snapshot holds `new`."""
    git(repo, "config", "filter.up.clean", "tr a-z A-Z")
    git(repo, "config", "filter.up.smudge", "cat")
    r = _repo(repo, b"*.txt filter=up\n")
    write(r / "d" / "new.txt", b"new text\n")
    write(r / "d" / "keep.txt", b"edit\r\n")
    gs(r, "create", "-m", "before")
    git(r, "add", "d/new.txt")
    ran = git(r, "checkout", "-f")
    assert not (r / "d" / "new.txt").exists()
    assert named_once(r) == ["d/keep.txt", "d/new.txt"], ran.err
    gs(r, "undo")
    assert (r / "d" / "new.txt").read_bytes() == b"new text\n"
