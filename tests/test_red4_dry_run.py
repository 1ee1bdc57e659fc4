"""Red team (session 10): ``restore --dry-run`` says what the restore would do. It takes no
pre-restore snapshot, so it did not know what that snapshot leaves out (snapshot.exclude, a
cache dir): a named excluded path got no warning that its content would be in no snapshot,
and a whole-tree dry run said "would update" for the excluded files the restore then kept."""

from __future__ import annotations

import json
from pathlib import Path

from clihelpers import git
from clihelpers import gs


def _edited(repo: Path) -> None:
    (repo / "data.big").write_text("v1\n")
    (repo / "notes.txt").write_text("n1\n")
    (repo / "cache").mkdir()
    (repo / "cache" / "x").write_text("c1\n")
    (repo / "tagged").mkdir()
    (repo / "tagged" / "y").write_text("t1\n")
    gs(repo, "create")
    # made a cache dir since: the pre-restore snapshot leaves it out
    (repo / "tagged" / "CACHEDIR.TAG").write_text("Signature: 8a477f597d28d172789f06886806bc55\n")
    git(repo, "config", "snapshot.exclude", "*.big")
    git(repo, "config", "--add", "snapshot.exclude", "cache/")
    for rel in ("data.big", "notes.txt", "cache/x", "tagged/y"):
        (repo / rel).write_text("an edit in no snapshot\n")


def _same(dry: dict[str, object], real: dict[str, object]) -> None:
    for key in ("created", "updated", "deleted", "kept", "not_saved"):
        assert dry[key] == real[key], (key, dry, real)


def test_dry_run_of_the_whole_tree_keeps_what_the_restore_keeps(repo: Path) -> None:
    _edited(repo)
    dry = gs(repo, "restore", "1", "--dry-run")
    assert "would update notes.txt" in dry.out, dry.out
    assert "would update data.big" not in dry.out and "cache/x" not in dry.out, dry.out
    assert "would update tagged/y" not in dry.out, dry.out
    assert "kept 3 path(s)" in dry.out, dry.out
    d = json.loads(gs(repo, "restore", "1", "--dry-run", "--json"))
    _same(d, json.loads(gs(repo, "restore", "1", "--json")))
    assert (repo / "data.big").read_text() == "an edit in no snapshot\n"


def test_dry_run_of_a_named_excluded_path_warns_as_the_restore_does(repo: Path) -> None:
    _edited(repo)
    dry = gs(repo, "restore", "1", "data.big", "cache", "notes.txt", "--dry-run")
    assert "would update data.big" in dry.out and "would update cache/x" in dry.out, dry.out
    assert len(dry.err_lines) == 1, dry.err
    assert "data.big (excluded)" in dry.err and "cache/x (excluded)" in dry.err, dry.err
    assert "no snapshot" in dry.err and "would" in dry.err, dry.err
    assert (repo / "data.big").read_text() == "an edit in no snapshot\n"  # a dry run
    args = ["restore", "1", "data.big", "cache", "notes.txt", "--json"]
    d = json.loads(gs(repo, *args, "--dry-run"))
    assert sorted(d["not_saved"], key=str) == [
        {"path": "cache/x", "why": "excluded"},
        {"path": "data.big", "why": "excluded"},
    ], d
    _same(d, json.loads(gs(repo, *args)))


def test_dry_run_to_a_folder_in_the_worktree_keeps_what_the_restore_keeps(repo: Path) -> None:
    """--to DIR inside the worktree saves what it overwrites first, as in place: the dry run
    said 'would update' for an excluded file there that the restore then kept, and the
    restore said it kept it as 'a non-empty directory in the way'."""
    (repo / "sub").mkdir()
    (repo / "sub" / "data.big").write_text("v1\n")
    (repo / "sub" / "n").write_text("n1\n")
    gs(repo, "create")
    git(repo, "config", "snapshot.exclude", "*.big")
    (repo / "copy" / "sub").mkdir(parents=True)
    (repo / "copy" / "sub" / "data.big").write_text("mine, in no snapshot\n")
    args = ["restore", "1", "sub", "--to", "copy", "--json"]
    dry = json.loads(gs(repo, *args, "--dry-run"))
    assert dry["updated"] == [] and dry["kept"] == ["sub/data.big"], dry
    named = gs(repo, "restore", "1", "sub/data.big", "--to", "copy", "--dry-run")
    assert "data.big (excluded)" in named.err, named.err
    _same(dry, json.loads(gs(repo, *args)))
    assert (repo / "copy" / "sub" / "data.big").read_text() == "mine, in no snapshot\n"
    (repo / "copy" / "sub" / "n").unlink()
    real = gs(repo, "restore", "1", "sub", "--to", "copy")
    assert "directories in the way" not in real.out, real.out
    assert "kept 1 path(s) that no snapshot holds" in real.out, real.out
