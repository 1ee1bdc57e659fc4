"""`restore ID PATH --to "$DIR"` with DIR unset: --to '' is refused, never a restore in place.

An empty --to was taken as no --to: the restore wrote over the worktree, where the user had
asked for another folder (a PATH given as '' is refused for the same reason)."""

from __future__ import annotations

from pathlib import Path

from clihelpers import gs
from hookhelpers import write


def test_an_empty_to_is_refused(repo: Path) -> None:
    write(repo / "f", b"old\n")
    gs(repo)
    write(repo / "f", b"new\n")
    ran = gs(repo, "restore", "1", "f", "--to", "", rc=None)
    assert ran.rc == 1 and "--to" in ran.err and "empty" in ran.err, ran.said
    assert (repo / "f").read_bytes() == b"new\n"
