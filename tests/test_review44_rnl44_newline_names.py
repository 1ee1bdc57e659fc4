"""Review RNL44 (session 44) of fixNL's names with a newline: three variants its tests did not
try, each wrong before its fix (682cf4e), right after it.

- core.autocrlf true (no attribute file), the ten hostile names of its sweep under a folder
  whose own name holds a newline (every path holds one): `checkout -f B`, `checkout B --
  FOLDER` and `run -- git stash` missed the edits git wrote over (clean_path_ids and
  gitextra.converting left every such path out), where ten plain names were named.
- a submodule whose `* text eol=crlf` file is named `a\\nb.txt`: a recursing checkout that
  moves the clean submodule between two of its commits writes CRLF bytes, whose raw id is
  no blob; gitwrote._stored_in_submodule asks the submodule's git for its stored id
  (clean_path_ids), which left the name out: "1 file with uncommitted edits" was reported
  for a file that held none (and undo would have written the old text over the new).
- `undo`'s "changed since the report" check (commands/undo_since) for an ignored
  `*.env* text eol=crlf` file a merge wrote over: LF bytes written since in `a\\n.env`
  (git's blob byte for byte, which git writes back CRLF) were taken for git's version, and
  undo wrote the report's version over them without a word (kept only in the snapshot undo
  takes first; losses.written_otherwise left the name out); and git's own CRLF version a
  `reset --hard` wrote since in `a\\n.env`, `"q.env` or `c.env\\r` was "changed since",
  and undo refused to put back what the report named (clean_path_ids left the name out,
  or git unquoted or cut it).

Real git, the plain hooks installed as a user installs them.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from conftest import committed_repo
from hookhelpers import commit
from hookhelpers import install
from hookhelpers import put_venv_on_path
from hookhelpers import side_commit
from hookhelpers import write
from test_red44_newline_names_sweep import HOSTILE
from test_red44_newline_names_sweep import PLAIN
from test_red44_newline_names_sweep import edited_and_named


def _named(repo: Path, how: str, folder: bytes, names: list[bytes]) -> list[str]:
    """FOLDER/NAME committed for each of *names* (LF and CRLF in turn) under core.autocrlf
    true, branch B made, each edited and saved; *how* run: the lost entries of the loss
    reports, a file by its place in *names*; undo gives each named file's edit back."""
    git(repo, "config", "core.autocrlf", "true")
    paths = [folder + b"/" + n for n in names]
    for i, p in enumerate(paths):
        write(repo / os.fsdecode(p), b"one\r\n" if i % 2 else b"one\n")
    git(repo, "add", "--", os.fsdecode(folder))
    git(repo, "commit", "-q", "-m", "files")
    git(repo, "branch", "B")
    install(repo)
    return edited_and_named(repo, how, paths, folder)


@pytest.mark.parametrize("how", ["checkoutf", "checkoutfiles", "stash"])
def test_hostile_names_in_a_folder_with_a_newline_under_autocrlf_are_named_as_plain_ones(
    tmp_path: Path, how: str
) -> None:
    plain = _named(committed_repo(tmp_path / "plain"), how, b"d", PLAIN)
    hostile = _named(committed_repo(tmp_path / "hostile"), how, b"d\nx", HOSTILE)
    assert plain, how
    assert hostile == plain


@pytest.mark.parametrize("name", ["a\nb.txt", 'q"\\\n.txt'])
def test_a_clean_submodule_a_recursing_checkout_moves_is_no_loss_whatever_its_names(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    put_venv_on_path(monkeypatch)
    lib = tmp_path / "lib"
    lib.mkdir()
    git(lib, "init", "-q")
    (lib / ".gitattributes").write_bytes(b"* text eol=crlf\n")
    (lib / name).write_bytes(b"one\ntwo\n")
    git(lib, "add", ".")
    git(lib, "commit", "-qm", "s1")
    (lib / name).write_bytes(b"one\ntwo\nthree\n")
    git(lib, "commit", "-qam", "s2")
    git(repo, "-c", "protocol.file.allow=always", "submodule", "-q", "add", str(lib), "sub")
    git(repo, "commit", "-qm", "sub at s2")
    git(repo, "branch", "b2")
    git(repo / "sub", "checkout", "-q", "HEAD~1")
    git(repo, "commit", "-qam", "sub at s1")
    install(repo)
    gs(repo, "-m", "before")
    ran = git(repo, "checkout", "-q", "--recurse-submodules", "b2")
    assert (repo / "sub" / name).read_bytes() == b"one\r\ntwo\r\nthree\r\n"  # git wrote it
    assert ran.reports == [], ran.err
    assert json.loads(gs(repo, "losses", "--json").out) == []


OLD = b"OLD_SECRET=1\n"  # the user's ignored file, which the merge wrote over (reported)
SHARED = b"SHARED=1\n"  # the branch's committed version: git's blob, LF; CRLF on disk


def _reported(repo: Path, name: str) -> None:
    """*name* ignored and held; `git merge other` (other tracks it) wrote over it, under
    `*.env* text eol=crlf`: one loss report, naming it."""
    commit(repo, ".gitattributes", b"*.env* text eol=crlf\n")
    commit(repo, ".gitignore", b"*.env*\n")
    side_commit(repo, "other", {name: SHARED})
    install(repo)
    write(repo / name, OLD)
    ran = git(repo, "merge", "-q", "other")
    assert len(ran.reports) == 1, ran.err
    assert json.loads(gs(repo, "losses", "--json").out)[0]["lost"][0]["path"] == name, ran.err
    assert (repo / name).read_bytes() == b"SHARED=1\r\n"


def test_lf_bytes_on_disk_since_the_report_in_a_name_with_a_newline_stop_the_undo(
    repo: Path,
) -> None:
    name = "a\n.env"
    _reported(repo, name)
    write(repo / name, SHARED)  # a tool rewrote it with LF: git's blob, not what git writes
    ran = gs(repo, "undo", rc=1)
    assert (repo / name).read_bytes() == SHARED, ran.err  # nothing written over
    assert "changed since" in ran.err, ran.err


@pytest.mark.parametrize("name", ["a\n.env", '"q.env', "c.env\r"])
def test_what_git_wrote_since_in_an_odd_name_does_not_stop_the_undo(repo: Path, name: str) -> None:
    _reported(repo, name)
    write(repo / name, b"NEW=2\n")  # (in no snapshot: not undo's business)
    git(repo, "reset", "-q", "--hard")  # no hook: git's version, converted, written since
    assert (repo / name).read_bytes() == b"SHARED=1\r\n"
    ran = gs(repo, "undo")
    assert (repo / name).read_bytes() == OLD, ran.err
