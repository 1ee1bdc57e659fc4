"""The product against DESIGN.md, as a user runs it: one test per place where QA found the
product differing from the contract (each failed before its fix)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs

from git_snapshot.errors import UserError
from git_snapshot.store import Store
from git_snapshot.store import location

KINDS = {"tracked", "untracked", "ignored"}


def _entries(repo: Path, *args: str) -> dict[str, str]:
    data = json.loads(gs(repo, "show", *args, "--json").out)
    return {e["path"]: e["kind"] for e in data["entries"]}


def test_show_gives_every_entry_a_kind_folders_too(repo: Path) -> None:
    """DESIGN: show lists 'the entries of one snapshot, each with its kind: tracked,
    untracked or ignored'; a folder is tracked when it holds a tracked file, ignored when all
    it holds is ignored (git status --ignored shows it so), else untracked."""
    (repo / ".gitignore").write_text("build/\n*.log\n")
    (repo / "src" / "deep").mkdir(parents=True)
    (repo / "src" / "deep" / "m.py").write_text("x\n")
    git(repo, "add", ".gitignore", "src")
    git(repo, "commit", "-q", "-m", "src")
    (repo / "src" / "new.py").write_text("u\n")
    (repo / "src" / "deep" / "x.log").write_text("log\n")
    (repo / "build" / "out" / "empty").mkdir(parents=True)
    (repo / "build" / "out" / "a.o").write_text("o\n")
    (repo / "notes" / "empty").mkdir(parents=True)
    (repo / "logs").mkdir()
    (repo / "logs" / "today.log").write_text("l\n")
    gs(repo)
    kinds = _entries(repo, "latest")
    assert set(kinds.values()) <= KINDS, kinds
    assert kinds["src"] == kinds["src/deep"] == "tracked"
    assert kinds["src/new.py"] == "untracked" and kinds["src/deep/x.log"] == "ignored"
    assert kinds["build"] == kinds["build/out"] == kinds["build/out/empty"] == "ignored"
    assert kinds["logs"] == "ignored"
    assert kinds["notes"] == kinds["notes/empty"] == "untracked"
    # the same with PATHs named, and in the table
    assert _entries(repo, "latest", "build") == {
        "build": "ignored",
        "build/out": "ignored",
        "build/out/a.o": "ignored",
        "build/out/empty": "ignored",
    }
    table = gs(repo, "show", "latest").out.splitlines()
    rows = {line.split()[-1]: line.split()[0] for line in table[2:] if line.endswith("/")}
    assert rows["src/"] == "tracked" and rows["build/out/empty/"] == "ignored", rows


def test_an_ephemeral_store_is_refused_naming_the_safe_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DESIGN: a store on ephemeral storage 'is refused with a clear error naming the safe
    default', also when HOME (and so the default) is itself on a temp dir, as in CI."""
    default = tmp_path / "home" / ".local" / "share" / "git-snapshot"
    monkeypatch.setattr(location, "default_store_dir", lambda: str(default))
    monkeypatch.delenv(location.ENV_ALLOW_EPHEMERAL)
    bad = tmp_path / "store"
    monkeypatch.setenv(location.ENV_STORE, str(bad))
    with pytest.raises(UserError) as info:
        Store(None)
    msg = str(info.value)
    assert str(bad) in msg and str(default) in msg and location.ENV_STORE in msg
    assert "\n" not in msg and not bad.exists()
