"""RED19 on the inherited label (archiver.Options.inherit, 7be5b69): below a folder labelled
IGNORED no labeller call. A label kept from an earlier snapshot is a wrong report: so the
rules change under files that did not (a folder ignored, then un-ignored, a file force-added
below it, then taken out of the index again), with records trusted at once (RACY_NS 0: the
plain-file path that reuses a record) and not, C and twin; each snapshot's labels against a
fresh walk with git's labeller alone (no inherit, no record)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from clihelpers import git
from ctreehelp import native as _ctree
from ctreehelp import needs_c
from hypothesis import HealthCheck
from hypothesis import example
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from storehelpers import take

from git_snapshot import gitrepo
from git_snapshot import worktree
from git_snapshot.store import Store
from git_snapshot.store import archiver
from git_snapshot.store import ctree_py
from git_snapshot.store import walker

IGN, TR, UN = worktree.IGNORED, worktree.TRACKED, worktree.UNTRACKED


def _labels(store: Store, root: bytes) -> dict[bytes, int]:
    return {rel: e.label for rel, e in store.walk(root)}


def _alone(tmp_path: Path, r: Path, n: int) -> dict[bytes, int]:
    """The labels of a first walk with git's labeller alone (no inherit, no record)."""
    repo = gitrepo.find_repo(str(r))
    with Store(tmp_path / f"alone{n}") as s:
        opts = archiver.Options(classify=worktree.classifier(repo), omit=frozenset({b".git"}))
        return _labels(s, take(s, "s", str(r), opts).root)


def _repo(tmp_path: Path) -> Path:
    r = tmp_path / "repo"
    r.mkdir()
    git(r, "init", "-q")
    (r / ".gitignore").write_text("node_modules/\n")
    for rel in ("node_modules/a/x.js", "node_modules/a/y.js", "node_modules/b/deep/z.js"):
        (r / rel).parent.mkdir(parents=True, exist_ok=True)
        (r / rel).write_text(rel + "\n")
    (r / "top.txt").write_text("t\n")
    git(r, "add", ".gitignore", "top.txt")
    git(r, "commit", "-q", "-m", "init")
    return r


def _steps(r: Path) -> list[tuple[str, Callable[[], object], dict[bytes, int]]]:
    """What each step does to the rules (never to node_modules' files) and a few labels the
    snapshot after it must give."""

    def ignore(text: str) -> Callable[[], object]:
        return lambda: (r / ".gitignore").write_text(text)

    return [
        ("first", lambda: None, {b"node_modules": IGN, b"node_modules/a/x.js": IGN}),
        ("unignore", ignore(""), {b"node_modules": 0, b"node_modules/a/x.js": UN}),
        ("reignore", ignore("node_modules/\n"), {b"node_modules/b/deep/z.js": IGN}),
        (
            "force_add",
            lambda: git(r, "add", "-f", "node_modules/a/x.js"),
            {b"node_modules": 0, b"node_modules/a/x.js": TR, b"node_modules/a/y.js": IGN},
        ),
        (
            "unstage",
            lambda: git(r, "rm", "-q", "-f", "--cached", "node_modules/a/x.js"),
            {b"node_modules": IGN, b"node_modules/a/x.js": IGN},
        ),
        (
            "reinclude",
            ignore("node_modules/*\n!node_modules/b/\n"),
            {b"node_modules/a": IGN, b"node_modules/b/deep/z.js": UN},
        ),
        ("reignore", ignore("node_modules/\n"), {b"node_modules/b/deep/z.js": IGN}),
    ]


@pytest.mark.parametrize("racy", [0, None])
@pytest.mark.parametrize("impl", [pytest.param("c", marks=needs_c), "twin"])
def test_labels_follow_the_rules_not_the_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, impl: str, racy: int | None
) -> None:
    if racy is not None:
        monkeypatch.setattr(walker, "RACY_NS", racy)
    monkeypatch.setattr(walker, "_build", _ctree.build if impl == "c" else ctree_py.build)
    r = _repo(tmp_path)
    repo = gitrepo.find_repo(str(r))
    for n, (name, act, want) in enumerate(_steps(r)):
        act()
        with Store(tmp_path / "store") as s:
            got = _labels(s, worktree.take(s, repo, trigger="manual").snapshot.root)
        alone = _alone(tmp_path, r, n)
        assert got == alone, name
        assert {rel: got[rel] for rel in want} == want, name


PATTERNS = ["n/", "n/a/", "*.js", "!n/a/k.js", "n/*", "!n/b/", "deep/", "!*.t", "n/b/deep/*"]
FILES = ["n/a/k.js", "n/a/x.t", "n/b/deep/z.js", "n/b/y", "n/c.js", "top.js", "m/deep/q.t"]
_op = st.one_of(
    st.tuples(st.just("ignore"), st.lists(st.sampled_from(PATTERNS), max_size=4)),
    st.tuples(st.just("add"), st.sampled_from(FILES)),
    st.tuples(st.just("unstage"), st.sampled_from(FILES)),
    st.tuples(st.just("edit"), st.sampled_from(FILES)),
)


@settings(max_examples=12, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(_op, min_size=1, max_size=5), trusted=st.booleans())
@example(ops=[("add", "n/a/x.t"), ("edit", "n/a/x.t"), ("unstage", "n/a/x.t")], trusted=False)
def test_generated_rules_give_the_labeller_s_labels(
    tmp_path_factory: pytest.TempPathFactory, ops: list[tuple[str, Any]], trusted: bool
) -> None:
    """Generated .gitignore rules ('!' re-includes, folders whole or by '*'), force-adds and
    unstagings between snapshots of one store (inherit: IGNORED, the C build where built):
    each snapshot's labels are those of a fresh walk with git's labeller alone."""
    base = tmp_path_factory.mktemp("gen")
    r = base / "repo"
    r.mkdir()
    git(r, "init", "-q")
    for rel in FILES:
        (r / rel).parent.mkdir(parents=True, exist_ok=True)
        (r / rel).write_text(rel)
    git(r, "add", "top.js")
    git(r, "commit", "-q", "-m", "init")
    repo = gitrepo.find_repo(str(r))
    with pytest.MonkeyPatch.context() as m:
        if trusted:
            m.setattr(walker, "RACY_NS", 0)
        for n, (op, arg) in enumerate([("ignore", []), *ops]):
            if op == "ignore":
                (r / ".gitignore").write_text("".join(p + "\n" for p in arg))
            elif op == "add":
                git(r, "add", "-f", arg)
            elif op == "unstage":  # (-f: a staged file edited since differs from both)
                git(r, "rm", "-q", "-f", "--cached", "--ignore-unmatch", arg)
            else:
                with open(r / arg, "a") as f:
                    f.write("+")
            with Store(base / "store") as s:
                got = _labels(s, worktree.take(s, repo, trigger="manual").snapshot.root)
            assert got == _alone(base, r, n), (n, op, arg)
