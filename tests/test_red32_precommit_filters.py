"""RED32 (red team D, finding 2): pre-commit's patch of unstaged edits, with a filter or eol.

pre-commit saves the unstaged edits as ``git diff --binary`` (git's stored form: a clean
filter's output, LF), then ``git checkout -- .``. The overlay checked the index versions out
in working-tree form (smudged, CRLF) and applied that patch to them: the hunks did not match,
so every ``git merge`` with such an edit was stopped by pre-merge-commit with a raw ``git apply
... patch failed``, and post-checkout took no snapshot, silently. Now the patch is applied to
the stored form and the result written as git checkout writes it. Where the patch still
cannot be read back, the hook snapshots the worktree as it is and says in one line which
edits that snapshot lacks (pre-commit holds them and puts them back): the merge goes on.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from clihelpers import run
from conftest import init_repo
from hookhelpers import commit
from hookhelpers import head
from hookhelpers import put_venv_on_path
from hookhelpers import saved
from hookhelpers import snaps
from hookhelpers import write
from precommithelpers import pc_install

from git_snapshot import gitoverlay
from git_snapshot import gitrepo

PC_DIFF = ("diff-index", "--ignore-submodules", "--binary", "--exit-code", "--no-color")


def _attributes(r: Path) -> None:
    git(r, "config", "filter.up.clean", "tr a-z A-Z")
    git(r, "config", "filter.up.smudge", "tr A-Z a-z")
    write(r / ".gitattributes", b"*.up filter=up\n*.txt text eol=crlf\n")


def _stash_as_pre_commit(r: Path, tmp_path: Path) -> Path:
    """What pre-commit does before a hook (staged_files_only.py): the unstaged edits to a
    patch, then ``git checkout -- .``."""
    tree = git(r, "write-tree").out.strip()
    diff = run(r, "git", *PC_DIFF, "--no-ext-diff", tree, "--", rc=1).out
    patch = tmp_path / "pc-patch"
    patch.write_bytes(diff.encode("utf-8", "surrogateescape"))
    git(r, "checkout", "--", ".")
    return patch


def _overlay_files(r: Path, patch: Path, dest: Path) -> dict[str, bytes]:
    ov = gitoverlay.overlay_from_patch(gitrepo.find_repo(str(r)), str(patch), str(dest))
    return {os.fsdecode(p): (dest / os.fsdecode(p)).read_bytes() for p in sorted(ov.files)}


@pytest.mark.parametrize("autocrlf", [False, True], ids=["attributes", "attributes+autocrlf"])
def test_the_overlay_holds_the_users_bytes(tmp_path: Path, autocrlf: bool) -> None:
    r = init_repo(tmp_path / "r")
    _attributes(r)
    if autocrlf:
        git(r, "config", "core.autocrlf", "true")
    write(r / "x.up", b"hello\n")
    write(r / "c.txt", b"l1\r\nl2\r\n")
    write(r / "gone.up", b"bye\n")
    write(r / "run.up", b"#!/bin/sh\n")
    write(r / "plain", b"p\n")
    git(r, "add", ".")
    git(r, "commit", "-qm", "c")
    nl = b"\r\n" if autocrlf else b"\n"  # (what git checkout writes there: the user's too)
    edits = {
        "x.up": b"hello edited" + nl,
        "c.txt": b"l1\r\nl2 edited\r\n",
        "run.up": b"#!/bin/sh" + nl + b"echo hi" + nl,
        "plain": b"p edited" + nl,
    }
    for rel, data in edits.items():
        write(r / rel, data)
    (r / "run.up").chmod(0o755)
    (r / "gone.up").unlink()
    patch = _stash_as_pre_commit(r, tmp_path)
    assert (r / "x.up").read_bytes() == b"hello" + nl  # (the hidden state the hook sees)

    dest = tmp_path / "overlay"
    assert _overlay_files(r, patch, dest) == edits
    assert (dest / "run.up").stat().st_mode & 0o777 == 0o755
    ov = gitoverlay.overlay_from_patch(gitrepo.find_repo(str(r)), str(patch), str(tmp_path / "o2"))
    assert ov.deleted == frozenset({b"gone.up"})


def test_without_attributes_the_overlay_is_as_before(tmp_path: Path) -> None:
    r = init_repo(tmp_path / "r")
    commit(r, "c.txt", b"l1\r\nl2\r\n")
    commit(r, "sub/gone", b"g\n")
    write(r / "c.txt", b"l1\r\nl2 edited\n")
    (r / "sub/gone").unlink()
    patch = _stash_as_pre_commit(r, tmp_path)
    assert _overlay_files(r, patch, tmp_path / "ov") == {"c.txt": b"l1\r\nl2 edited\n"}


def test_a_patch_that_cannot_be_read_back_does_not_stop_the_merge(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The test process plays pre-commit (the hook finds the patch named after an ancestor),
    with a patch that does not apply: pre-merge-commit snapshots the worktree as it is, says
    in one line which edits it lacks and where they are, and lets the merge go on."""
    put_venv_on_path(monkeypatch)
    r = init_repo(tmp_path / "r")
    commit(r, "notes.txt", b"committed\n")
    home = tmp_path / "pch"
    home.mkdir()
    patch = home / f"patch{int(time.time())}-{os.getpid()}"
    patch.write_bytes(
        b"diff --git a/notes.txt b/notes.txt\n--- a/notes.txt\n+++ b/notes.txt\n"
        b"@@ -1 +1 @@\n-not what the index holds\n+the user's edit\n"
    )
    ran = gs(r, "hook", "pre-merge-commit", PRE_COMMIT="1", PRE_COMMIT_HOME=str(home))
    assert ran.rc == 0, ran
    (warning,) = [ln for ln in ran.said if "notes.txt" in ln]
    assert str(patch) in warning and "GIT_SNAPSHOT_SKIP" not in warning, ran.said
    (snap,) = snaps(r)
    assert snap["trigger"] == "pre-merge-commit"


@pytest.mark.slow
@pytest.mark.parametrize(
    ("attrs", "rel", "committed", "edited"),
    [
        (b"*.up filter=up\n", "x.up", b"hello\n", b"hello edited\n"),
        (b"*.txt text eol=crlf\n", "c.txt", b"l1\r\nl2\r\n", b"l1\r\nl2 edited\r\n"),
    ],
    ids=["filter", "eol-crlf"],
)
def test_merge_and_checkout_through_pre_commit(
    pc: Path, tmp_path: Path, attrs: bytes, rel: str, committed: bytes, edited: bytes
) -> None:
    r = pc
    git(r, "config", "filter.up.clean", "tr a-z A-Z")
    git(r, "config", "filter.up.smudge", "tr A-Z a-z")
    commit(r, ".gitattributes", attrs)
    commit(r, rel, committed)
    git(r, "checkout", "-qb", "feat")
    commit(r, "f", b"f\n")
    git(r, "checkout", "-q", "main")
    commit(r, "m", b"m\n")
    git(r, "branch", "other")
    pc_install(r)
    write(r / rel, edited)
    old = head(r)

    ran = git(r, "merge", "--no-edit", "feat")
    assert head(r) != old and (r / "f").exists(), ran
    assert (r / rel).read_bytes() == edited
    (pmc,) = [s for s in snaps(r) if s["trigger"] == "pre-merge-commit"]
    assert saved(r, pmc["id"], tmp_path)[rel] == edited

    before = len(snaps(r))
    git(r, "checkout", "other")
    assert (r / rel).read_bytes() == edited
    assert len(snaps(r)) == before + 1 and snaps(r)[-1]["trigger"] == "post-checkout"
    assert saved(r, snaps(r)[-1]["id"], tmp_path)[rel] == edited
