"""fixM (session 42; review RK42, "Pre-existing"): any ``snapshot.exclude`` cost every hook
~30 ms (about 30 % of an unchanged hook): ``worktree.excluder`` imported ``pathspec``, and
``re`` with it (~26 ms by ``-X importtime``), even for the README's own quick start,
``snapshot.exclude /.venv/``. The common patterns (a literal or ``*``/``?`` globs, with or
without a leading or trailing ``/``) are now matched by ``git_snapshot.excludes`` itself,
without ``re``; any other pattern sends the whole set to pathspec as before.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from hookhelpers import head
from test_hook_imports import _hook_modules


def _kept(repo: Path) -> tuple[set[str], set[str]]:
    """The latest snapshot's paths, and what it left out as excluded."""
    lines = gs(repo, "show", "latest").out.splitlines()
    skipped = {ln[len("skipped: ") : -len(" (excluded)")] for ln in lines if "(excluded)" in ln}
    kept = {ln.split()[-1] for ln in lines[2:] if not ln.startswith("skipped: ")}
    return kept, skipped


COMMON = [
    ["/.venv/"],
    ["/.venv/", "node_modules/", "*.log", "build", "/dist", "a/b/", "tmp-?", "x/**"],
]


@pytest.mark.parametrize("patterns", COMMON, ids=["venv", "several"])
def test_a_hook_with_common_excludes_imports_neither_pathspec_nor_re(
    repo: Path, patterns: list[str]
) -> None:
    for p in patterns:
        git(repo, "config", "--add", "snapshot.exclude", p)
    (repo / ".venv" / "lib").mkdir(parents=True)
    (repo / ".venv" / "lib" / "big.py").write_text("left out\n")
    (repo / "notes.txt").write_text("untracked\n")
    (repo / "run.log").write_text("log\n")
    h = head(repo)
    time.sleep(2.1)  # older than walker.RACY_NS: the files cache answers for every file
    status, modules, err = _hook_modules(repo, "post-checkout", h, h, "1")  # the first snapshot
    assert status == 0 and "snapshot 1 (post-checkout)" in err, err
    assert "pathspec" not in modules
    status, modules, err = _hook_modules(repo, "post-checkout", h, h, "1")
    assert status == 0 and "unchanged since snapshot 1" in err, err
    assert not {"pathspec", "re"} & modules, sorted({"pathspec", "re"} & modules)
    kept, skipped = _kept(repo)
    assert "notes.txt" in kept and ".venv/" not in kept and ".venv" in skipped
    assert ("run.log" in kept) == (len(patterns) == 1) != ("run.log" in skipped)


def test_a_pattern_the_matcher_cannot_decide_still_goes_to_pathspec(repo: Path) -> None:
    """'**/' and '!' are pathspec's to decide, for the whole set (never mixed)."""
    for p in ["/.venv/", "**/cache/", "*.log", "!keep.log"]:
        git(repo, "config", "--add", "snapshot.exclude", p)
    for name in ["a/cache/x", "run.log", "keep.log", ".venv/y", "z.txt"]:
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text("x\n")
    h = head(repo)
    status, modules, err = _hook_modules(repo, "post-checkout", h, h, "1")
    assert status == 0 and "snapshot 1 (post-checkout)" in err, err
    assert "pathspec" in modules
    kept, skipped = _kept(repo)
    assert {"keep.log", "z.txt", "a/"} <= kept
    assert skipped == {"run.log", "a/cache", ".venv"}
