"""The pieces session 44 made one of (dup44): losses.reflog_entry (a line of HEAD's reflog,
for reflog_since and run._moves_since), hooks.real_moves (the moves of HEAD among reflog
entries, for head_steps and run._moves_since) and hooks.tree_changes (one diff-tree --stdin,
for step_paths and run._diff_paths). Real git."""

from __future__ import annotations

from pathlib import Path

from clihelpers import git
from hookhelpers import commit
from hookhelpers import head

from git_snapshot import gitrepo
from git_snapshot import hooks
from git_snapshot import losses

ZERO = "0" * 40


def test_reflog_entry_reads_git_s_lines(repo: Path) -> None:
    first = head(repo)
    second = commit(repo, "b.txt", b"b\n", "second: b")
    git(repo, "checkout", "-q", "-b", "topic")
    lines = (repo / ".git" / "logs" / "HEAD").read_bytes().split(b"\n")
    entries = [losses.reflog_entry(line) for line in lines]
    made, moved, end = entries[-3:]
    assert end is None  # (the empty line after the last)
    assert made is not None and made[:3] == (first, second, b"commit: second: b")
    assert isinstance(made[3], int) and made[3] > 0
    assert moved is not None
    assert moved[:3] == (second, second, b"checkout: moving from main to topic")
    assert losses.reflog_entry(b"a b c") is None
    assert losses.reflog_entry(b"a b c x -0100\tno time") == ("a", "b", b"no time", None)


def test_real_moves_are_from_a_commit_to_another() -> None:
    a, b = "a" * 40, "b" * 40
    entries = [
        (ZERO, a, b"commit (initial): one"),
        (a, b, b"rebase (pick): two"),
        (b, b, b"checkout: moving from main to topic"),
        (b, ZERO, b"checkout: moving to an orphan"),
        (b, "not an id", b"reset: moving to HEAD"),
        (b, a, b"reset: moving to HEAD~1"),
    ]
    assert list(hooks.real_moves(entries)) == [(a, b, b"rebase"), (b, a, b"reset")]


def test_tree_changes_of_pairs_and_of_a_root(repo: Path) -> None:
    root = head(repo)
    commit(repo, "b.txt", b"b\n")
    git(repo, "rm", "-q", "README")
    commit(repo, "c.txt", b"c\n")
    top = head(repo)
    r = gitrepo.find_repo(str(repo))
    got = hooks.tree_changes(r, [f"{top} {root}"])
    assert sorted(got) == [(b"A", b"b.txt"), (b"A", b"c.txt"), (b"D", b"README")]
    assert hooks.tree_changes(r, [f"{top} {root}"], "D") == [(b"D", b"README")]
    assert hooks.tree_changes(r, [root]) == [(b"A", b"README")]  # a root: all added
    assert hooks.step_paths(r, [(root, top)]) == {b"b.txt", b"c.txt", b"README"}
