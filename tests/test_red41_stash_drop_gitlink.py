"""`run -- git stash drop` of an entry holding a submodule's moved pointer named the submodule
among the entry's saved files; the snapshot holds nothing for it (red41R2 F6).

The guard listed every path the entry changed (`changed_paths(base, entry)`, gitlinks too),
but a stash entry is snapshotted from its trees' files and links (`write_tree` writes no
gitlink): `restore N --to ../stash-0` could not give back the commit the submodule was moved
to. The line now names only what the snapshot holds, and says which commit the submodule's
pointer held, which no snapshot holds (the loss log has it as not saved).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from hookhelpers import install
from hookhelpers import put_venv_on_path

ALLOW = ("-c", "protocol.file.allow=always")


@pytest.fixture
def moved(tmp_path: Path, repo: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, str]:
    """*repo* with submodule sm moved back one commit and staged, a.txt edited, both stashed;
    the commit sm was moved to."""
    put_venv_on_path(monkeypatch)
    sub = tmp_path / "sub"
    sub.mkdir()
    git(sub, "init", "-q")
    for text in ("s1\n", "s2\n"):
        (sub / "s.txt").write_text(text)
        git(sub, "add", ".")
        git(sub, "commit", "-qm", text)
    (repo / "a.txt").write_text("base\n")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "init")
    git(repo, *ALLOW, "submodule", "add", "-q", str(sub), "sm")
    git(repo, "commit", "-qm", "sm")
    install(repo)
    git(repo / "sm", "checkout", "-q", "HEAD~1")
    old = git(repo / "sm", "rev-parse", "HEAD").strip()
    (repo / "a.txt").write_text("base\nedit\n")
    git(repo, "add", "sm", "a.txt")
    git(repo, "stash", "-q")
    return repo, old


def test_the_line_names_only_what_the_snapshot_holds(moved: tuple[Path, str]) -> None:
    repo, old = moved
    ran = gs(repo, "run", "--", "git", "stash", "drop")
    line = next(ln for ln in ran.said if "dropped stash@{0}" in ln)
    m = re.search(r"dropped stash@\{0\} \((.*?)\): saved in snapshot (\d+)", line)
    assert m, line
    held, snap = m.group(1), m.group(2)
    assert held.startswith("1 file: a.txt;"), line  # sm is no saved file
    assert "sm" in held and old in held and "not saved" in held, line
    shown = gs(repo, "show", snap).out
    assert "a.txt" in shown and " sm" not in shown, shown
    entry = json.loads(gs(repo, "losses", "--json").out)[-1]
    assert [x["path"] for x in entry["unsaved"]] == ["sm"], entry
    assert old in entry["unsaved"][0]["why"], entry


def test_a_stash_of_files_only_says_nothing_of_submodules(
    moved: tuple[Path, str],
) -> None:
    repo, _ = moved
    git(repo, "stash", "drop", "-q")
    git(repo / "sm", "checkout", "-q", "-")
    git(repo, "add", "sm")
    (repo / "a.txt").write_text("base\nanother edit\n")
    git(repo, "stash", "-q")
    ran = gs(repo, "run", "--", "git", "stash", "drop")
    line = next(ln for ln in ran.said if "dropped stash@{0}" in ln)
    assert "(1 file: a.txt): saved in snapshot" in line, line
    assert "not saved" not in line, line
