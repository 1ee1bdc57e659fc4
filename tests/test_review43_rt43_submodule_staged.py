"""Review RT43 of fixT (12a2e17), a miss _git_dropped still had (before 12a2e17 too): a
file the user made in a submodule, saved untracked, then staged there (`git -C sub add`),
is deleted by `git checkout -f --recurse-submodules` as a staged new file of the
submodule: its only copy is in the snapshot, and no report named it. _git_dropped asked
whether it was staged since of the superproject's object database alone; the submodule's
`git add` writes into its own (.git/modules/sub/objects). The same under the submodule's
own `*.txt text eol=crlf` (its git stores the CRLF bytes as LF: _staged_converted asked of
the submodule's repository).

Real git, the plain hooks installed as a user installs them.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from hookhelpers import CRLF_RULE
from hookhelpers import hooked_superproject
from hookhelpers import named_once
from hookhelpers import not_the_commands

CRLF_A = b"one\r\ntwo\r\n"  # sub/a.txt


@pytest.mark.parametrize("attributes", [None, CRLF_RULE])
def test_a_staged_new_file_of_a_submodule_a_recursing_checkout_f_deleted_is_named(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, attributes: bytes | None
) -> None:
    r = hooked_superproject(repo, tmp_path, monkeypatch, attributes, CRLF_A)
    (r / "sub" / "new.txt").write_bytes(b"new\r\n")
    gs(r, "create", "-m", "before")  # sub/new.txt: untracked
    git(r / "sub", "add", "new.txt")
    ran = git(r, "checkout", "-q", "-f", "--recurse-submodules")
    assert not (r / "sub" / "new.txt").exists()  # git deleted the submodule's staged file
    assert "sub/new.txt" in ran.err, ran.err
    assert named_once(r) == ["sub/new.txt"]
    gs(r, "undo")
    assert (r / "sub" / "new.txt").read_bytes() == b"new\r\n"


def test_a_submodule_file_the_user_deleted_is_not_named(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Guard: sub/mine.txt (untracked, saved) the user removed; sub/new.txt staged in the
    submodule since; the recursing `checkout -f` deletes sub/new.txt only."""
    r = hooked_superproject(repo, tmp_path, monkeypatch, None, CRLF_A)
    (r / "sub" / "mine.txt").write_bytes(b"mine, not staged\n")
    (r / "sub" / "new.txt").write_bytes(b"new\n")
    gs(r, "create", "-m", "before")
    (r / "sub" / "mine.txt").unlink()
    git(r / "sub", "add", "new.txt")
    ran = git(r, "checkout", "-q", "-f", "--recurse-submodules")
    assert not_the_commands(ran, "sub/mine.txt"), ran.err
    assert named_once(r) == ["sub/new.txt"]
