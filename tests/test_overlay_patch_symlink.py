"""A symlink in pre-commit's patch of unstaged edits stays a symlink in the overlay.

Where git could convert a file (an eol or filter attribute), the overlay turns the patched
files into what git checkout writes (gitoverlay._smudge_in_place). It took them with
``os.path.isfile`` and ``os.stat``, which follow a link: a tracked file replaced by a link to
an existing file was hashed as that file's bytes and written back as a copy of it, so the
snapshot held a file from outside the worktree, not the user's link. git converts no link.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from clihelpers import git
from clihelpers import run
from hookhelpers import commit
from hookhelpers import write

from git_snapshot import gitoverlay
from git_snapshot import gitrepo


def test_a_link_the_patch_writes_is_not_turned_into_the_file_it_points_to(
    repo: Path, tmp_path: Path
) -> None:
    write(repo / ".gitattributes", b"*.txt text eol=crlf\n")
    commit(repo, "a.txt", b"one\n")
    commit(repo, "b", b"plain\n")
    outside = tmp_path / "outside"
    outside.write_bytes(b"NOT THE USER'S\n")
    (repo / "b").unlink()
    os.symlink(outside, repo / "b")
    write(repo / "a.txt", b"one\r\ntwo\r\n")
    patch = tmp_path / "patch"
    patch.write_bytes(
        run(repo, "git", "diff", "--binary", "--no-color", "--no-ext-diff").out.encode(
            "utf-8", "surrogateescape"
        )
    )
    git(repo, "checkout", "--", ".")
    dest = tmp_path / "overlay"
    ov = gitoverlay.overlay_from_patch(gitrepo.find_repo(str(repo)), str(patch), str(dest))
    assert {b"a.txt", b"b"} <= ov.files
    st = os.lstat(dest / "b")
    assert stat.S_ISLNK(st.st_mode), (dest / "b").read_bytes()
    assert os.readlink(dest / "b") == str(outside)
    assert (dest / "a.txt").read_bytes() == b"one\r\ntwo\r\n"
