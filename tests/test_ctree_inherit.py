"""An inherited label (archiver.Options.inherit): a folder labelled with it gives it to every
entry below it without a call of the labeller (git: below an ignored folder everything is
ignored; node_modules is most of a JavaScript tree), in C and in the twin, in a first walk, a
changed folder's plain files, a split walk and a rebuild; and a real repository's labels
(tracked, untracked, ignored, force-added, re-included) are the ones the labeller gives alone."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from clihelpers import git
from ctreehelp import native as _ctree
from ctreehelp import needs_c
from storehelpers import D
from storehelpers import F
from storehelpers import L
from storehelpers import build
from storehelpers import take

from git_snapshot import gitrepo
from git_snapshot import worktree
from git_snapshot.store import Store
from git_snapshot.store import archiver
from git_snapshot.store import ctree_py
from git_snapshot.store import forked
from git_snapshot.store import splitwalk
from git_snapshot.store import walker

IGN = 3
IMPLS = [pytest.param("c", marks=needs_c), "twin"]


def _use(monkeypatch: pytest.MonkeyPatch, impl: str) -> None:
    assert _ctree is not None or impl == "twin"
    monkeypatch.setattr(walker, "_build", _ctree.build if impl == "c" else ctree_py.build)


class Labeller:
    """A labeller that follows the rule itself (so labels are the same with and without
    inherit) and notes every call below an ignored folder in a file (the split walk's child
    calls it too)."""

    def __init__(self, log: Path) -> None:
        self.log = log
        log.write_bytes(b"")

    def __call__(self, rel: bytes, is_dir: bool, parent: int) -> int:
        if parent == IGN:
            with open(self.log, "ab") as f:
                f.write(rel + b"\n")
            return IGN
        if is_dir:
            return IGN if rel.rpartition(b"/")[2] in (b"ign", b"node_modules") else 0
        return 1 if rel.endswith(b".t") else 2

    def below(self) -> list[bytes]:
        """The calls below an ignored folder since the last look."""
        got = self.log.read_bytes().split(b"\n")[:-1]
        self.log.write_bytes(b"")
        return got


def tree() -> D:
    ign = D(
        {
            b"a.js": F(b"a"),
            b"b.js": F(b"b" * 100),
            b"link": L(b"a.js"),
            b"sub": D({b"c.js": F(b"c"), b"deeper": D({b"d.js": F(b"d")}), b"x.t": F(b"t")}),
        }
    )
    return D(
        {
            b"top.t": F(b"tracked"),
            b"loose": F(b"untracked"),
            b"keep": D({b"x.t": F(b"x"), b"y": F(b"y"), b"ign": ign}),
            b"node_modules": D({f"p{i}".encode(): D({b"i.js": F(b"%d" % i)}) for i in range(6)}),
            b"ign": ign,
        }
    )


def edit(src: Path, rnd: int) -> None:
    """Files changed in ignored folders and elsewhere, one added, one removed."""
    for rel in ("ign/a.js", "keep/ign/sub/c.js", "node_modules/p1/i.js", "top.t"):
        with open(src / rel, "ab") as f:
            f.write(b"+%d" % rnd)
    (src / "ign" / "sub" / f"new{rnd}.js").write_bytes(b"new")
    (src / "node_modules" / f"p{rnd}" / "i.js").unlink()


def labels(store: Store, root: bytes) -> dict[bytes, int]:
    return {rel: e.label for rel, e in store.walk(root)}


def _snapshots(
    tmp_path: Path, inherit: int | None, log: Path, rounds: int = 3
) -> tuple[list[dict[bytes, int]], list[list[bytes]]]:
    """The labels of a first snapshot and of *rounds* more after edits (the last unchanged),
    and the labeller's calls below an ignored folder in each."""
    src = tmp_path / "src"
    shutil.rmtree(src, ignore_errors=True)
    build(src, tree())
    classify = Labeller(log)
    got, below = [], []
    with Store(tmp_path / f"store-{inherit}") as s:
        for rnd in range(rounds + 1):
            if 0 < rnd < rounds:
                edit(src, rnd)
            opts = archiver.Options(classify=classify, inherit=inherit, rules="same")
            snap = take(s, "s", src, opts)
            got.append(labels(s, snap.root))
            below.append(classify.below())
    return got, below


@pytest.mark.parametrize("impl", IMPLS)
def test_no_labeller_call_below_an_inherited_label(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, impl: str
) -> None:
    monkeypatch.setattr(walker, "RACY_NS", 0)  # (records trusted at once: plain files)
    _use(monkeypatch, impl)
    want, asked = _snapshots(tmp_path, None, tmp_path / "calls-none")
    got, none = _snapshots(tmp_path, IGN, tmp_path / "calls-ign")
    assert got == want  # the same labels
    assert none == [[]] * len(got)  # and no call below an ignored folder
    assert all(asked[:-1])  # (which the labeller alone was asked for: plain files too)
    assert b"keep/ign/sub/x.t" in asked[1]  # (a plain file of a changed folder)
    assert got[1][b"keep/ign/sub/deeper/d.js"] == IGN
    assert got[1][b"ign/sub/new1.js"] == IGN
    assert got[1][b"ign/link"] == IGN
    assert got[1][b"keep/x.t"] == 1 and got[1][b"loose"] == 2


@pytest.mark.parametrize("impl", IMPLS)
def test_no_labeller_call_below_an_inherited_label_in_a_split_walk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, impl: str
) -> None:
    """The split walk's two processes (tests/test_splitwalk.py's setup: every walk with a
    files cache split, the parent waiting for the child's answers)."""
    monkeypatch.setattr(walker, "RACY_NS", 0)
    monkeypatch.setattr(walker, "SPLIT_FOLDERS", 0)
    monkeypatch.setattr(splitwalk, "MIN_FILES", 0)
    monkeypatch.setattr(splitwalk, "UNITS", 4)
    monkeypatch.setattr(splitwalk, "WAIT", True)
    monkeypatch.setattr(forked, "other_threads", lambda: False)
    used: list[int] = []
    close = splitwalk.Split.close

    def noted(self: splitwalk.Split) -> None:
        used.append(self.used)
        close(self)

    monkeypatch.setattr(splitwalk.Split, "close", noted)
    _use(monkeypatch, impl)
    want, _ = _snapshots(tmp_path, None, tmp_path / "calls-none")
    got, none = _snapshots(tmp_path, IGN, tmp_path / "calls-ign")
    assert got == want
    assert none == [[]] * len(got)
    assert used and all(used)  # (the child answered for units)


def _repo(path: Path) -> Path:
    """A repository with every kind of label: tracked, untracked, ignored folders whole
    (node_modules, build, a nested .gitignore's cache/), a force-added file in an
    ignored-looking folder, re-included files (`!`), a symlink in an ignored folder."""
    r = path / "repo"
    r.mkdir()
    git(r, "init", "-q")
    files = {
        ".gitignore": "node_modules/\nbuild/\nlogs/*\n!logs/keep.log\n*.tmp\n",
        "README": "r\n",
        "src/app.js": "app\n",
        "src/loose.js": "untracked\n",
        "src/.gitignore": "!important.tmp\ncache/\n",
        "src/important.tmp": "re-included\n",
        "src/scratch.tmp": "ignored\n",
        "src/cache/a/b.txt": "ignored below a nested rule\n",
        "logs/keep.log": "re-included\n",
        "logs/run.log": "ignored\n",
        "build/out/x.o": "ignored\n",
        "node_modules/a/index.js": "a\n",
        "node_modules/a/lib/deep/z.js": "z\n",
        "node_modules/kept/patched.js": "force-added\n",
        "node_modules/kept/other.js": "ignored\n",
        "node_modules/kept/sub/y.js": "ignored\n",
    }
    for rel, text in files.items():
        (r / rel).parent.mkdir(parents=True, exist_ok=True)
        (r / rel).write_text(text)
    os.symlink("index.js", r / "node_modules" / "a" / "link.js")
    git(r, "add", ".gitignore", "README", "src/app.js", "src/.gitignore")
    git(r, "add", "-f", "node_modules/kept/patched.js")
    git(r, "commit", "-q", "-m", "init")
    return r


EXPECTED = {
    b"README": worktree.TRACKED,
    b"src/app.js": worktree.TRACKED,
    b"src/loose.js": worktree.UNTRACKED,
    b"src/important.tmp": worktree.UNTRACKED,
    b"src/scratch.tmp": worktree.IGNORED,
    b"src/cache": worktree.IGNORED,
    b"src/cache/a/b.txt": worktree.IGNORED,
    b"logs": 0,
    b"logs/keep.log": worktree.UNTRACKED,
    b"logs/run.log": worktree.IGNORED,
    b"build": worktree.IGNORED,
    b"build/out/x.o": worktree.IGNORED,
    b"node_modules": 0,
    b"node_modules/a": worktree.IGNORED,
    b"node_modules/a/link.js": worktree.IGNORED,
    b"node_modules/a/lib/deep/z.js": worktree.IGNORED,
    b"node_modules/kept": 0,
    b"node_modules/kept/patched.js": worktree.TRACKED,
    b"node_modules/kept/other.js": worktree.IGNORED,
    b"node_modules/kept/sub": worktree.IGNORED,
    b"node_modules/kept/sub/y.js": worktree.IGNORED,
}


@pytest.mark.parametrize("impl", IMPLS)
def test_a_repository_s_labels_are_the_labeller_s(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, impl: str
) -> None:
    """worktree.take (inherit: IGNORED) against the same walk with git's labeller alone (as
    before inherit), a first snapshot and one after edits in ignored folders: the same
    labels, and git's labeller never asked below an ignored folder."""
    monkeypatch.setattr(walker, "RACY_NS", 0)
    _use(monkeypatch, impl)
    r = _repo(tmp_path)
    below: list[bytes] = []
    real: Callable[..., Any] = worktree.classifier

    def spied(*a: Any, **k: Any) -> Any:
        classify = real(*a, **k)

        def spy(rel: bytes, is_dir: bool, parent: int) -> int:
            if parent == worktree.IGNORED:
                below.append(rel)
            return classify(rel, is_dir, parent)  # type: ignore[no-any-return]

        return spy

    monkeypatch.setattr(worktree, "classifier", spied)
    repo = gitrepo.find_repo(str(r))
    for rnd in range(2):
        if rnd:
            for rel in ("node_modules/a/index.js", "build/out/x.o", "src/app.js"):
                with open(r / rel, "a") as f:
                    f.write("edited\n")
            (r / "node_modules" / "a" / "lib" / "new.js").write_text("new\n")
        with Store(tmp_path / "store") as s:
            snap = worktree.take(s, repo, trigger="manual").snapshot
            got = labels(s, snap.root)
        with Store(tmp_path / "alone") as s:
            opts = archiver.Options(classify=real(repo), omit=frozenset({b".git"}))
            want = labels(s, take(s, "s", str(r), opts).root)
        assert got == want
        assert {rel: got[rel] for rel in EXPECTED} == EXPECTED
        assert below == []
