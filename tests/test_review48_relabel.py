"""Review RW48 of wt48's preparation across a change of git's ignored answer (d275679): the
variants its tests did not try. A prepared tree that goes ahead must be the full walk's,
every label among it (else a loss report built on it is false); otherwise it is refused.

- a file that changes type where git's ignored answer changes (an ignored file becomes a
  folder, an ignored folder becomes a file);
- hostile names: not UTF-8, starting with '-', holding a newline;
- a new ignored symlink (.env as a link);
- a new ignored file in a new folder that also holds an untracked one;
- a chain of preparations (the second starts from the first, relabelled, tree), then the
  ignored file deleted again (git's answer back to the base's).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest
from clihelpers import git
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from test_prep_tree import _prep
from test_prep_tree import _take
from test_prep_tree import watched  # noqa: F401  (a fixture)
from test_watch_dirtyset import Daemon
from test_watch_dirtyset import _full
from test_watch_dirtyset import _make_tree

from git_snapshot.store import Store
from git_snapshot.watch import dirtyset
from git_snapshot.watch import take

REFUSED = "git's labels changed"


def _prepared(store: Store, top: Path, tmp: Path) -> str:
    """Prepare: 'prepared' (and its tree is then the full walk's, labels and all), or
    'refused' (for git's labels; any other reason fails the test)."""
    got = take.prepare(str(top))
    if got["prepared"] is None:
        assert str(got.get("why", "")).startswith(REFUSED), got
        return "refused"
    p = _prep(store, top)
    assert p is not None and not p.marked
    full = _full(top, tmp / f"full{len(list(tmp.iterdir()))}")
    with Store(tmp / "full-walks") as other:
        walked = {rel: (e.kind, e.label) for rel, e in other.walk(full.root)}
    with Store(store.path) as mine:
        assert {rel: (e.kind, e.label) for rel, e in mine.walk(p.root)} == walked
    assert p.root == full.root
    return "prepared"


def test_an_ignored_file_that_becomes_a_folder(
    watched: tuple[Store, Path, Daemon],  # noqa: F811
    tmp_path: Path,
) -> None:
    """a/keep.log (an ignored file of the base) becomes a folder holding a file: git lists
    `a/keep.log/` now (a folder matching *.log). The folder is new to the base: walked whole."""
    store, top, daemon = watched
    _take(store, top)
    (top / "a" / "keep.log").unlink()
    (top / "a" / "keep.log").mkdir()
    (top / "a" / "keep.log" / "inside.txt").write_text("x\n")
    daemon.entries(top / "a" / "keep.log", top / "a" / "keep.log" / "inside.txt")
    daemon.mark(top / "a" / "keep.log")
    assert _prepared(store, top, tmp_path) == "prepared"


def test_an_ignored_folder_that_becomes_a_file(
    watched: tuple[Store, Path, Daemon],  # noqa: F811
    tmp_path: Path,
) -> None:
    """build/ (ignored, a folder of the base) becomes a file `build` (`build/` does not
    match a file: untracked). Refused or right."""
    store, top, daemon = watched
    _take(store, top)
    gone = [top / "build", *top.glob("build/**/*")]
    shutil.rmtree(top / "build")
    (top / "build").write_text("now a file\n")
    daemon.entries(*gone)
    _prepared(store, top, tmp_path)


@pytest.mark.parametrize(
    "name", [b"\xff\xfe.log", b"-rf.log", b"new\nline.log", b"--.log"], ids=repr
)
def test_a_new_ignored_file_with_a_hostile_name(
    watched: tuple[Store, Path, Daemon],  # noqa: F811
    tmp_path: Path,
    name: bytes,
) -> None:
    store, top, daemon = watched
    _take(store, top)
    path = Path(os.fsdecode(os.fsencode(top / "a" / "d") + b"/" + name))
    path.write_bytes(b"SECRET=mine\n")
    daemon.entries(path)
    assert _prepared(store, top, tmp_path) == "prepared"


def test_a_new_ignored_symlink(
    watched: tuple[Store, Path, Daemon],  # noqa: F811
    tmp_path: Path,
) -> None:
    store, top, daemon = watched
    _take(store, top)
    (top / "e" / "link.log").symlink_to("../a")  # (to a folder: still a link, ignored)
    (top / "dangling.log").symlink_to("nowhere")
    daemon.entries(top / "e" / "link.log", top / "dangling.log")
    assert _prepared(store, top, tmp_path) == "prepared"


def test_a_new_folder_with_an_untracked_and_an_ignored_file(
    watched: tuple[Store, Path, Daemon],  # noqa: F811
    tmp_path: Path,
) -> None:
    """git lists u/z.log alone (u is not all ignored); then the untracked file goes: git
    lists `u/` (all it holds is ignored), u still new to the base."""
    store, top, daemon = watched
    _take(store, top)
    (top / "u").mkdir()
    (top / "u" / "z.log").write_text("z\n")
    (top / "u" / "keep.txt").write_text("k\n")
    daemon.entries(top / "u", top / "u" / "z.log", top / "u" / "keep.txt")
    daemon.mark(top / "u")
    assert _prepared(store, top, tmp_path) == "prepared"
    (top / "u" / "keep.txt").unlink()
    daemon.entries(top / "u" / "keep.txt")
    assert _prepared(store, top, tmp_path) == "prepared"


def test_a_chain_of_preparations_then_back_to_the_base_answer(
    watched: tuple[Store, Path, Daemon],  # noqa: F811
    tmp_path: Path,
) -> None:
    """A new ignored file (relabelled), an untracked file elsewhere (git's answers the same
    as the first preparation's: built on it), the ignored file gone (git's answers the
    base's again), a new ignored folder in an old one (the first's tree has other labels)."""
    store, top, daemon = watched
    _take(store, top)
    (top / "a" / "b" / "new.log").write_text("SECRET=mine\n")
    daemon.entries(top / "a" / "b" / "new.log")
    assert _prepared(store, top, tmp_path) == "prepared"
    (top / "e" / "plain.txt").write_text("untracked\n")
    daemon.entries(top / "e" / "plain.txt")
    assert _prepared(store, top, tmp_path) == "prepared"
    (top / "a" / "b" / "new.log").unlink()
    daemon.entries(top / "a" / "b" / "new.log")
    assert _prepared(store, top, tmp_path) == "prepared"
    (top / "a" / "b" / "c" / "logs").mkdir()
    (top / "a" / "b" / "c" / "logs" / "x.log").write_text("x\n")
    daemon.entries(top / "a" / "b" / "c" / "logs", top / "a" / "b" / "c" / "logs" / "x.log")
    daemon.mark(top / "a" / "b" / "c" / "logs")
    assert _prepared(store, top, tmp_path) == "prepared"


def test_a_hook_with_the_base_s_labels_keeps_git_s_answer(
    watched: tuple[Store, Path, Daemon],  # noqa: F811
    tmp_path: Path,
) -> None:
    """Snapshots whose labels are the base's pass no answer (the hook packs none): the
    base's stays kept through them, and a new ignored file after them is prepared."""
    store, top, daemon = watched
    _take(store, top)
    daemon.ack_syncs()
    for i in range(2):
        (top / "a" / "d" / "f0.txt").write_text(f"edit {i}\n")  # (tracked: same labels)
        daemon.entries(top / "a" / "d" / "f0.txt")
        assert _take(store, top, trigger="post-commit").new
    (top / "a" / "d" / "new.log").write_text("SECRET=mine\n")
    daemon.entries(top / "a" / "d" / "new.log")
    assert _prepared(store, top, tmp_path) == "prepared"


@pytest.mark.parametrize(
    "kind",
    ["trailing data", "gzip", "raw deflate", "preset dictionary", "two streams", "empty"],
)
def test_a_kept_answer_in_another_zlib_form_is_refused(kind: str) -> None:
    """dirtyset.unpack takes exactly what pack made of an answer of that digest."""
    import zlib

    from git_snapshot import gitrepo
    from git_snapshot.watch import dirtyset

    raw = b"a/keep.log\0build/\0.env\0"
    part = gitrepo.labels_part(raw)
    good = dirtyset.pack(raw)
    assert good is not None and dirtyset.unpack(good, part) == raw

    def packed(wbits: int, zdict: bytes = b"") -> bytes:
        c = zlib.compressobj(1, zlib.DEFLATED, wbits, zdict=zdict) if zdict else None
        c = c or zlib.compressobj(1, zlib.DEFLATED, wbits)
        return c.compress(raw) + c.flush()

    value = {
        "trailing data": good + b"x",
        "gzip": packed(31),
        "raw deflate": packed(-15),
        "preset dictionary": packed(15, zdict=b".env\0build/"),
        "two streams": good + good,
        "empty": b"",
    }[kind]
    assert dirtyset.unpack(value, part) is None


@pytest.mark.parametrize("rules", ["*.log\n", "*.log\nbuild/\ne/\n"], ids=["un-ignore", "ignore"])
def test_a_gitignore_edit_with_a_file_below_the_relabelled_folder_marked(
    watched: tuple[Store, Path, Daemon],  # noqa: F811
    tmp_path: Path,
    rules: str,
) -> None:
    """build/ un-ignored, or e/ ignored, and one file below it written: the rebuild lists
    that folder's marked entry again (under the folder's new label), but keeps its other
    entries as the base labelled them. The folder's own entry has the right label: only
    the rule that a folder of the base is refused keeps the stale labels below it out
    (refused today; a tree that went ahead would have to be the full walk's)."""
    store, top, daemon = watched
    _take(store, top)
    (top / ".gitignore").write_text(rules)
    below = top / "build" / "x" / "f0.txt" if "e/" not in rules else top / "e" / "f0.txt"
    below.write_text("written\n")
    daemon.entries(top / ".gitignore", below)
    _prepared(store, top, tmp_path)


def test_a_gitignore_edit_that_relabels_an_unmarked_file(
    watched: tuple[Store, Path, Daemon],  # noqa: F811
    tmp_path: Path,
) -> None:
    """`f1.txt` ignored: e/f1.txt (untracked, unmarked: the base's entry kept, labelled
    untracked) is ignored now. Refused, or right."""
    store, top, daemon = watched
    _take(store, top)
    (top / ".gitignore").write_text("*.log\nbuild/\nf1.txt\n")
    (top / "e" / "f0.txt").write_text("written\n")  # (e is listed again, f1.txt is not)
    daemon.entries(top / ".gitignore", top / "e" / "f0.txt")
    _prepared(store, top, tmp_path)


def test_a_preparation_a_hook_waits_for_is_not_relabelled(
    watched: tuple[Store, Path, Daemon],  # noqa: F811
    tmp_path: Path,
) -> None:
    """A hook whose sync finds marks unprepared is promised a preparation (prep.want) and
    waits for it (up to 3 s), but commits no tree of other labels than the base's: it
    walks everything itself after it. Such a preparation is refused at once, as before
    d275679 (with it, the hook waited for a rebuild of every new ignored file since the base
    that it then threw away: 68 ms of the worker's CPU for 1,000 new 20 KB .o files). The
    same marks without a hook waiting are prepared."""
    from git_snapshot.watch import prep

    store, top, daemon = watched
    _take(store, top)
    (top / "a" / "d" / "new.log").write_text("SECRET=mine\n")
    daemon.entries(top / "a" / "d" / "new.log")
    upto = prep.want(store.path, str(top))
    got = take.prepare(str(top), upto)
    assert got["prepared"] is None and str(got["why"]).startswith(REFUSED), got
    prep.unwant(store.path, str(top))
    assert _prepared(store, top, tmp_path) == "prepared"


def _from(store: Store, top: Path, tmp: Path) -> str:
    """Prepare; what the tree was built on ('prepared', 'base'), its tree the full walk's."""
    got = take.prepare(str(top))
    assert got["prepared"] is not None, got
    p = _prep(store, top)
    assert p is not None
    full = _full(top, tmp / f"full{len(list(tmp.iterdir()))}")
    with Store(tmp / "full-walks") as other:
        walked = {rel: (e.kind, e.label) for rel, e in other.walk(full.root)}
    with Store(store.path) as mine:
        assert {rel: (e.kind, e.label) for rel, e in mine.walk(p.root)} == walked
    assert p.root == full.root
    return str(got["from"])


def test_a_build_s_ignored_files_are_prepared_on_the_last_prepared_tree(
    watched: tuple[Store, Path, Daemon],  # noqa: F811
    tmp_path: Path,
) -> None:
    """Each step of a build makes new ignored files: git's ignored answer differs at each
    preparation from the last one's. Each was built from the base again, reading every new
    file since it (the worker's CPU grew with the square of the build: 50 steps of 20 .o
    files, 0.21 s -> 1.87 s). The worker keeps the answer its last tree was built under
    and builds on that tree, checking what changed since it."""
    store, top, daemon = watched
    _take(store, top)
    froms = []
    for step in range(4):
        made = [top / d / f"s{step}.log" for d in ("a", "a/b", "e")]
        for p in made:
            p.write_text(f"{p.name}\n")
        daemon.entries(*made)
        froms.append(_from(store, top, tmp_path))
    assert froms == ["base", "prepared", "prepared", "prepared"]
    (top / "a" / "s0.log").unlink()  # (git's answer: another again)
    daemon.entries(top / "a" / "s0.log")
    assert _from(store, top, tmp_path) == "prepared"


def test_a_folder_of_the_prepared_tree_relabelled_is_built_from_the_base(
    watched: tuple[Store, Path, Daemon],  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """u/ (new, all ignored: listed `u/`, its files labelled ignored below it) gets an
    untracked file: the prepared tree's u/ holds labels of the last answer, kept where
    unmarked: not built on it, but from the base (where u/ is new: walked whole)."""
    store, top, daemon = watched
    _take(store, top)
    (top / "u" / "deep").mkdir(parents=True)
    (top / "u" / "z.log").write_text("z\n")
    (top / "u" / "deep" / "y.log").write_text("y\n")
    daemon.entries(top / "u", top / "u" / "z.log", top / "u" / "deep")
    daemon.mark(top / "u", top / "u" / "deep")
    assert _from(store, top, tmp_path) == "base"
    first = _prep(store, top)
    assert first is not None
    checks: list[tuple[bytes, bool]] = []
    real = take._relabelled

    def spy(store: Store, against: bytes, *args: object) -> bool:
        checks.append((against, ok := real(store, against, *args)))  # type: ignore[arg-type]
        return ok

    monkeypatch.setattr(take, "_relabelled", spy)
    (top / "u" / "keep.txt").write_text("k\n")
    daemon.entries(top / "u" / "keep.txt")
    assert _from(store, top, tmp_path) == "base"
    assert checks[0] == (first.root, False)  # (built on it first: refused there)


_STEPS = st.lists(
    st.tuples(
        st.sampled_from(["ignored", "untracked", "delete", "folder", "rules"]),
        st.integers(0, 30),
        st.integers(0, 30),
    ),
    min_size=2,
    max_size=8,
)


@pytest.mark.slow
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=_STEPS)
def test_random_ignored_changes_prepared_on_each_other(
    watched: tuple[Store, Path, Daemon],  # noqa: F811
    tmp_path: Path,
    steps: list[tuple[str, int, int]],
) -> None:
    """New and deleted ignored and untracked files, new folders of ignored files, and
    .gitignore edits, a preparation after each (on the last prepared tree when it can):
    every tree that goes ahead is the full walk's, labels and all."""
    store, _, _ = watched
    top = Path(tempfile.mkdtemp(prefix="ex", dir=tmp_path))
    git(top, "init", "-q")
    _make_tree(top)
    dirtyset.watching(store.path, str(top))
    daemon = Daemon(store, top)
    _take(store, top)
    fulls = Path(tempfile.mkdtemp(prefix="full", dir=tmp_path))
    rules = ["*.log\nbuild/\n", "*.log\n", "*.log\nbuild/\ne/\n", "*.log\nbuild/\nf1.txt\n"]
    for n, (op, i, j) in enumerate(steps):
        dirs = sorted(
            p for p in top.rglob("*") if p.is_dir() and ".git" not in p.relative_to(top).parts
        )
        d = [top, *dirs][i % (len(dirs) + 1)]
        if op in ("ignored", "untracked"):
            p = d / (f"n{n}.log" if op == "ignored" else f"n{n}.txt")
            p.write_text(f"{n}\n")
            daemon.entries(p)
        elif op == "delete":
            files = sorted(
                p
                for p in top.rglob("*")
                if p.is_file() and ".git" not in p.relative_to(top).parts and p.name != ".gitignore"
            )
            if not files:
                continue
            p = files[j % len(files)]
            p.unlink()
            daemon.entries(p)
        elif op == "folder":
            f = d / f"logs{n}"
            (f / "deep").mkdir(parents=True)
            (f / "x.log").write_text("x\n")
            (f / "deep" / "y.log").write_text("y\n")
            daemon.entries(f, f / "x.log", f / "deep")
            daemon.mark(f, f / "deep")
        else:
            (top / ".gitignore").write_text(rules[j % len(rules)])
            daemon.entries(top / ".gitignore")
        _prepared(store, top, fulls)


def test_an_ignored_folder_of_the_prepared_tree_un_ignored(
    watched: tuple[Store, Path, Daemon],  # noqa: F811
    tmp_path: Path,
) -> None:
    """u/ made after the base and ignored by its own rule (`u/`: everything below labelled
    ignored by inheritance), prepared; then the rule removed and a file in u/ written: the
    rebuild enters u/ (its own entry relabelled) and keeps u/sub as the prepared tree had
    it (ignored). u/ is new to the base but not to the prepared tree: refused there (the
    base's build walks it whole)."""
    store, top, daemon = watched
    _take(store, top)
    (top / ".gitignore").write_text("*.log\nbuild/\nu/\n")
    (top / "u" / "sub").mkdir(parents=True)
    (top / "u" / "readme.txt").write_text("r\n")
    (top / "u" / "sub" / "a.txt").write_text("a\n")
    daemon.entries(top / ".gitignore", top / "u", top / "u" / "readme.txt", top / "u" / "sub")
    daemon.mark(top / "u", top / "u" / "sub")
    _prepared(store, top, tmp_path)
    (top / ".gitignore").write_text("*.log\nbuild/\n")
    (top / "u" / "readme.txt").write_text("written\n")
    daemon.entries(top / ".gitignore", top / "u" / "readme.txt")
    _prepared(store, top, tmp_path)
