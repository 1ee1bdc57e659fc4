"""Review RQ43 (session 43) of fixQ's "left alone": `losses._nested` compared a submodule's
lost files with the versions its repository has by their raw bytes alone. Under the
submodule's own `*.txt text eol=crlf` that is wrong both ways, as the hooks' check was before
12ee5c9 and the watcher's before 79e24e7:

- a false report: a clean submodule that `checkout --recurse-submodules b2` moved between
  two of its commits was "1 file with uncommitted edits: sub/a.txt" (the CRLF bytes git wrote
  are no blob; RED39 B4's case with an eol rule), and `undo` would write s1's text over s2's;
- a missed loss: LF bytes a tool wrote (the blob's bytes, byte for byte), which
  `run -- git submodule update --force` wrote back CRLF, were "given back": no report.

_nested now asks losses.gives_back of the submodule's repository (its attributes, its eol).

Real git, the plain hooks installed as a user installs them.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from hookhelpers import CRLF_RULE
from hookhelpers import add_submodule
from hookhelpers import install
from hookhelpers import put_venv_on_path
from hookhelpers import submodule_lib


def _superproject(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, attributes: bytes
) -> Path:
    """sub: a submodule whose a.txt is s1 `one two` then s2 `one two three`, with
    *attributes*; the superproject's main has it at s1, its branch b2 at s2. Hooks in."""
    put_venv_on_path(monkeypatch)
    lib = submodule_lib(tmp_path, attributes, b"one\ntwo\n")
    (lib / "a.txt").write_bytes(b"one\ntwo\nthree\n")
    git(lib, "commit", "-qam", "s2")
    add_submodule(repo, lib, "sub at s2")
    git(repo, "branch", "b2")
    git(repo / "sub", "checkout", "-q", "HEAD~1")
    git(repo, "commit", "-qam", "sub at s1")
    install(repo)
    return repo


@pytest.mark.parametrize(("attributes", "eol"), [(CRLF_RULE, b"\r\n"), (b"* text=auto\n", b"\n")])
def test_a_clean_submodule_a_recursing_checkout_moves_is_no_loss(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, attributes: bytes, eol: bytes
) -> None:
    r = _superproject(repo, tmp_path, monkeypatch, attributes)
    assert (r / "sub" / "a.txt").read_bytes() == b"one%btwo%b" % (eol, eol)  # git wrote it
    gs(r, "-m", "before")
    ran = git(r, "checkout", "-q", "--recurse-submodules", "b2")
    assert (r / "sub" / "a.txt").read_bytes() == b"one%btwo%bthree%b" % (eol, eol, eol)
    assert ran.reports == [], ran.err
    assert json.loads(gs(r, "losses", "--json").out) == []


@pytest.mark.parametrize("attributes", [CRLF_RULE, b""])
def test_a_submodule_edit_a_forced_update_discarded_is_named(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, attributes: bytes
) -> None:
    """Guard: a real edit is named, with an eol rule or without."""
    r = _superproject(repo, tmp_path, monkeypatch, attributes)
    (r / "sub" / "a.txt").write_bytes(b"one\nmine\n")
    ran = gs(r, "run", "--", "git", "submodule", "update", "-q", "--force")
    assert [x.names for x in ran.reports] == ["sub/a.txt"], ran.err
    gs(r, "undo")
    assert (r / "sub" / "a.txt").read_bytes() == b"one\nmine\n"


def test_lf_bytes_a_forced_update_writes_back_as_crlf_are_named(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    r = _superproject(repo, tmp_path, monkeypatch, CRLF_RULE)
    (r / "sub" / "a.txt").write_bytes(b"one\ntwo\n")  # a tool writes LF: s1's blob's bytes
    ran = gs(r, "run", "--", "git", "submodule", "update", "-q", "--force")
    assert (r / "sub" / "a.txt").read_bytes() == b"one\r\ntwo\r\n"
    (rep,) = ran.reports
    assert rep.names == "sub/a.txt" and "end-of-line" in rep.kinds, ran.err
    gs(r, "undo")
    assert (r / "sub" / "a.txt").read_bytes() == b"one\ntwo\n"
