"""Session 43 (review RQ43, "hooks.py: two real misses under eol=crlf", item 2): with a
submodule under its own `*.txt text eol=crlf`, `git checkout -f --recurse-submodules` (or
submodule.recurse) discards a saved edit of sub/a.txt, and post-checkout named only the
superproject's README: the edit was lost without a word (named without the eol rule, RED36
A3). gitwrote._in_submodules asked the submodule's object database about the raw id of the
CRLF bytes git wrote, which is no blob; the superproject's gitrepo.converting does not see
the submodule's attributes.

Ids the submodule does not have raw are now asked as its git stores the file (its
attributes: gitrepo.converting and clean_path_ids of a Repo of the submodule,
lostnested.nested_repo, which lostnested._nested uses too).

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

RECURSE = ("checkout", "-q", "-f", "--recurse-submodules")


@pytest.mark.parametrize("attributes", [CRLF_RULE, None])
@pytest.mark.parametrize("edit", [b"one\nmine\n", b"one\r\nmine\r\n"])
@pytest.mark.parametrize("top", [True, False])
def test_a_submodule_edit_a_recursing_forced_checkout_discarded_is_named(
    repo: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    attributes: bytes | None,
    edit: bytes,
    top: bool,
) -> None:
    r = hooked_superproject(repo, tmp_path, monkeypatch, attributes, b"one\ntwo\n")
    git_wrote = (r / "sub" / "a.txt").read_bytes()
    (r / "sub" / "a.txt").write_bytes(edit)
    if top:
        (r / "README").write_bytes(b"my top\n")
    gs(r, "create", "-m", "before")
    ran = git(r, *RECURSE)
    assert (r / "sub" / "a.txt").read_bytes() == git_wrote
    assert "sub/a.txt" in ran.err, ran.err
    assert named_once(r) == (["README", "sub/a.txt"] if top else ["sub/a.txt"])
    gs(r, "undo")
    assert (r / "sub" / "a.txt").read_bytes() == edit


@pytest.mark.parametrize("attributes", [CRLF_RULE, None])
def test_crlf_bytes_git_wrote_in_the_submodule_are_not_named(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, attributes: bytes | None
) -> None:
    """Guard: no edit in the submodule (its a.txt as git wrote it: CRLF under the rule), an
    edit of README: a recursing forced checkout names README alone."""
    r = hooked_superproject(repo, tmp_path, monkeypatch, attributes, b"one\ntwo\n")
    (r / "README").write_bytes(b"my top\n")
    gs(r, "create", "-m", "before")
    ran = git(r, *RECURSE)
    assert [x.names for x in ran.reports] == ["README"], ran.err
