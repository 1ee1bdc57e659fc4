"""diff with split=True: a forked child compares half of the folders of a wide level. The
changes must be exactly those of one process, in the same order, whatever the child does
(answers, dies, sends garbage)."""

from __future__ import annotations

import json
import os
import random
import shutil
from collections import Counter
from pathlib import Path

import pytest
from clihelpers import gs
from storehelpers import take

from git_snapshot.cli import main
from git_snapshot.commands.diff import changes_json_text
from git_snapshot.commands.diff import json_items
from git_snapshot.commands.diff import json_list
from git_snapshot.store import Store
from git_snapshot.store import diff_levels as sdiff
from git_snapshot.store import forked
from git_snapshot.store.diff import Change
from git_snapshot.store.diff import diff_dir
from git_snapshot.store.diff import diff_dir_text
from git_snapshot.store.diff import diff_trees
from git_snapshot.store.diff import diff_trees_text


def _tree(root: Path, seed: int) -> None:
    """Folders three levels deep (a few files each), so that levels are wide."""
    rnd = random.Random(seed)
    for a in range(6):
        for b in range(rnd.randrange(1, 5)):
            d = root / f"a{a}" / f"b{b}"
            for c in range(rnd.randrange(0, 3)):
                (d / f"c{c}").mkdir(parents=True, exist_ok=True)
                (d / f"c{c}" / "f").write_bytes(rnd.randbytes(rnd.randrange(50)))
            d.mkdir(parents=True, exist_ok=True)
            for f in range(rnd.randrange(0, 4)):
                (d / f"f{f}").write_bytes(rnd.randbytes(rnd.randrange(50)))


def _edit(root: Path, seed: int) -> None:
    """Files edited, added, deleted, chmodded; folders added and removed; a file made a
    folder."""
    rnd = random.Random(seed)
    paths = sorted(root.rglob("*"))
    for p in rnd.sample(paths, len(paths) // 3):
        if not p.exists():
            continue
        r = rnd.random()
        if p.is_dir():
            if r < 0.3:
                shutil.rmtree(p)
            else:
                (p / f"new{seed}").mkdir(exist_ok=True)
                (p / f"new{seed}" / "x").write_bytes(b"x")
        elif r < 0.4:
            p.write_bytes(rnd.randbytes(60))
        elif r < 0.6:
            p.unlink()
        elif r < 0.8:
            os.chmod(p, 0o600)
        else:
            p.unlink()
            p.mkdir()
            (p / "inside").write_bytes(b"y")


def _key(changes: list[Change]) -> list[tuple[object, ...]]:
    return [(c.path, c.status, c.old, c.new) for c in changes]


@pytest.fixture
def answers(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Whether each child's answer was taken (True) or the parent compared its folders."""
    monkeypatch.setattr(sdiff, "SHARE_AT", 2)
    monkeypatch.setattr(forked, "idle_core", lambda: True)  # whatever the machine's load
    got: list[bool] = []
    real = sdiff._answer

    def answer(data: bytes, nodes: int) -> list[list[tuple[object, ...]]] | None:
        out = real(data, nodes)
        got.append(out is not None)
        return out

    def answer_texts(data: bytes, nodes: int) -> tuple[list[str], dict[str, int]] | None:
        out = real_texts(data, nodes)
        got.append(out is not None)
        return out

    real_texts = sdiff._answer_texts
    monkeypatch.setattr(sdiff, "_answer", answer)
    monkeypatch.setattr(sdiff, "_answer_texts", answer_texts)
    return got


@pytest.fixture
def sent(answers: list[bool], monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The texts children sent (one per folder they compared), when answers took them."""
    got: list[str] = []
    inner = sdiff._answer_texts

    def answer_texts(data: bytes, nodes: int) -> tuple[list[str], dict[str, int]] | None:
        out = inner(data, nodes)
        got.extend(out[0] if out else [])
        return out

    monkeypatch.setattr(sdiff, "_answer_texts", answer_texts)
    return got


@pytest.mark.parametrize("seed", range(4))
def test_split_diff_is_the_single_process_diff(
    seed: int, store: Store, tmp_path: Path, answers: list[bool]
) -> None:
    wt = tmp_path / "wt"
    _tree(wt, seed)
    old = take(store, "s", wt)
    _edit(wt, seed + 100)
    new = take(store, "s", wt)
    for a, b in ((old.root, new.root), (new.root, old.root)):
        one = diff_trees(store, a, b)
        assert one  # something changed
        assert _key(diff_trees(store, a, b, split=True)) == _key(one)
    _edit(wt, seed + 200)  # the disk moves on again
    for snap in (old, new):
        one = diff_dir(store, snap.root, os.fsencode(wt))
        assert _key(diff_dir(store, snap.root, os.fsencode(wt), split=True)) == _key(one)
    assert answers and all(answers)  # the children answered, and were used


@pytest.mark.parametrize("how", ["dies", "garbage", "fails"])
def test_a_child_that_does_not_answer_changes_nothing(
    how: str,
    store: Store,
    tmp_path: Path,
    answers: list[bool],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def child(store: Store, nodes: object, step: object, w: int, render: object) -> None:
        if how == "dies":
            os._exit(1)
        if how == "garbage":
            os.write(w, b"\x00garbage")
        else:
            raise OSError("no")  # _share's child ends with os._exit all the same

    wt = tmp_path / "wt"
    _tree(wt, 1)
    old = take(store, "s", wt)
    _edit(wt, 2)
    new = take(store, "s", wt)
    one = diff_trees(store, old.root, new.root)
    monkeypatch.setattr(sdiff, "_child", child)
    assert _key(diff_trees(store, old.root, new.root, split=True)) == _key(one)
    assert answers and not any(answers)
    tally: dict[str, int] = {}
    text = json_list(
        diff_trees_text(store, old.root, new.root, json_items, split=True, tally=tally)
    )
    assert text == changes_json_text(one)
    assert tally == Counter(c.status for c in one)  # the parent counted the child's folders
    assert len(answers) >= 2 and not any(answers)


@pytest.mark.parametrize("seed", range(3))
def test_each_process_renders_its_folders_and_the_text_is_one_process_text(
    seed: int, store: Store, tmp_path: Path, answers: list[bool], sent: list[str]
) -> None:
    """diff --json's text: the child renders its folders' changes, the parent its own, and
    the pieces in output order are the one-process text (a child's text dropped, or put
    anywhere but in its folders' places, fails this)."""
    wt = tmp_path / "wt"
    _tree(wt, seed)
    old = take(store, "s", wt)
    _edit(wt, seed + 100)
    new = take(store, "s", wt)
    _edit(wt, seed + 200)
    for a, b in ((old.root, new.root), (new.root, old.root)):
        one = diff_trees(store, a, b)
        want = changes_json_text(one)
        tally: dict[str, int] = {}
        pieces = diff_trees_text(store, a, b, json_items, split=True, tally=tally)
        assert json_list(pieces) == want
        assert tally == Counter(c.status for c in one)  # the child's changes counted too
        assert diff_trees_text(store, a, b, json_items) == [want[2:-2]]  # one piece
    top = os.fsencode(wt)
    for snap in (old, new):
        one = diff_dir(store, snap.root, top)
        want = changes_json_text(one)
        tally = {}
        texts = diff_dir_text(store, snap.root, top, json_items, split=True, tally=tally)
        assert json_list(texts) == want
        assert tally == Counter(c.status for c in one)
    assert answers and all(answers)
    assert sum(1 for t in sent if t) >= 4  # the children's folders had changes, sent as text


def test_diff_json_is_the_same_text_with_a_second_process(
    repo: Path,
    capsys: pytest.CaptureFixture[str],
    answers: list[bool],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """git snapshot diff --json (two snapshots; a snapshot and the worktree): the same bytes
    with a child rendering half of the folders as with one process."""
    _tree(repo / "w", 5)
    gs(repo)
    _edit(repo / "w", 6)
    gs(repo)
    _edit(repo / "w", 7)
    runs = (["diff", "1", "2", "--json"], ["diff", "--json"], ["diff", "1", "--json"])
    two = []
    for argv in runs:
        assert main(["-C", str(repo), *argv]) == 0
        two.append(capsys.readouterr().out)
    assert len(answers) == len(runs) and all(answers)  # each had a child, which answered
    monkeypatch.setattr(forked, "possible", lambda: False)
    for argv, out in zip(runs, two):
        assert main(["-C", str(repo), *argv]) == 0
        assert capsys.readouterr().out == out
        assert len(json.loads(out)) > 20
    assert len(answers) == len(runs)  # no child the second time


def test_plain_diff_is_the_same_text_with_a_second_process(
    repo: Path,
    capsys: pytest.CaptureFixture[str],
    answers: list[bool],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """git snapshot diff (the list of changes and its summary line, in colour or not, with
    --exit-code): the same bytes and exit code when a child renders half of the folders'
    lines and counts their changes as with one process."""
    _tree(repo / "w", 8)
    gs(repo)
    _edit(repo / "w", 9)
    gs(repo)
    _edit(repo / "w", 10)
    runs = [
        ["diff", "1", "2"],
        ["diff", "2", "1"],
        ["diff"],
        ["diff", "1", "--exit-code"],
        ["--color=always", "diff", "1", "2"],
    ]
    two = []
    for argv in runs:
        rc = main(["-C", str(repo), *argv])
        two.append((rc, capsys.readouterr().out))
    assert len(answers) == len(runs) and all(answers)  # each had a child, which answered
    monkeypatch.setattr(forked, "possible", lambda: False)
    for argv, (rc, out) in zip(runs, two):
        assert (main(["-C", str(repo), *argv]), capsys.readouterr().out) == (rc, out)
        lines = out.splitlines()
        counts = Counter(line.split(" ")[0] for line in lines[:-1])
        if "--color=always" in argv:
            assert "\x1b[" in out
        else:  # each change one line, and the summary counts them all (git's letters: M for
            # a change of content and of mode alone, T for a type's)
            assert len(lines) > 20
            assert lines[-1].startswith("snapshot ")
            said = {
                status: int(n)
                for n, status in (p.split(" ") for p in lines[-1].split(": ", 1)[1].split(", "))
            }
            by_letter = {
                "A": said.get("added", 0),
                "D": said.get("deleted", 0),
                "M": said.get("modified", 0) + said.get("mode", 0),
                "T": said.get("type", 0),
            }
            assert {k: v for k, v in by_letter.items() if v} == dict(counts)
    assert two[3][0] == 1  # --exit-code: there were changes
    assert len(answers) == len(runs)  # no child the second time


def test_two_plain_ids_find_their_repository_once(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """diff ID ID2 asks git for the repository's id once (a git process less), and still
    names the same snapshots: both plain, one qualified, in either order."""
    from git_snapshot import gitrepo
    from git_snapshot import identity

    (repo / "a").write_bytes(b"1")
    gs(repo)
    (repo / "a").write_bytes(b"22")
    (repo / "b").write_bytes(b"3")
    gs(repo)
    asked: list[str] = []
    real = gitrepo.local_values

    def local_values(r: gitrepo.Repo, key: str) -> list[str]:
        asked.append(key)
        return real(r, key)

    monkeypatch.setattr(gitrepo, "local_values", local_values)
    label = repo.name
    for argv in (["1", "2"], ["latest~1", "latest"], [f"{label}:1", "2"], ["1", f"{label}:2"]):
        asked.clear()
        identity._READ.clear()  # (each command as a process of its own: nothing read yet)
        assert main(["-C", str(repo), "diff", *argv]) == 0
        out = capsys.readouterr().out
        assert out == "M a\nA b\nsnapshot 1 -> snapshot 2: 1 added, 1 modified\n", argv
        if ":" not in "".join(argv):
            assert asked == ["snapshot.repoId"], argv  # found once, not once per id


def test_the_child_opens_an_index_whose_path_needs_quoting(
    tmp_path: Path, answers: list[bool]
) -> None:
    """The child's read-only connection names the index by a URI (its path quoted without
    urllib): a store under a folder named with '%', '?', '#', a space, non-ASCII letters and
    a byte that is not UTF-8 is opened there, and its answers are taken."""
    wt = tmp_path / "wt"
    _tree(wt, 7)
    with Store(tmp_path / "st ore%25?x#y é\udcff") as odd:
        old = take(odd, "s", wt)
        _edit(wt, 107)
        new = take(odd, "s", wt)
        one = diff_trees(odd, old.root, new.root)
        answers.clear()
        assert _key(diff_trees(odd, old.root, new.root, split=True)) == _key(one)
        assert answers and all(answers)


@pytest.mark.parametrize(
    "path",
    ["/plain/path.sqlite", "/a b/%25/?x#y/é€/~_.-", "/\udcff raw byte", "/tab\there"],
)
def test_uri_path_quotes_as_urllib_does(path: str) -> None:
    import urllib.parse

    want = urllib.parse.quote(os.fsencode(path))
    assert sdiff.uri_path(path) == want
