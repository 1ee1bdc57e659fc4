"""Hook arguments parsed once into named fields; the git command the user ran (unit tests)."""

from __future__ import annotations

from git_snapshot import proc
from git_snapshot.hooks import HOOKS
from git_snapshot.hooks import INSTALLED
from git_snapshot.hooks import PRE_HOOKS
from git_snapshot.hooks import Call

A, B = "a" * 40, "b" * 40


def test_plain_hook_arguments() -> None:
    c = Call.parse("post-checkout", [A, B, "1"], {})
    assert (c.prev, c.new, c.branch_checkout, c.file_checkout, c.precommit) == (
        A,
        B,
        True,
        False,
        False,
    )
    assert Call.parse("post-checkout", [A, A, "0"], {}).file_checkout
    assert Call.parse("post-merge", ["1"], {}).squash
    assert not Call.parse("post-merge", ["0"], {}).squash
    assert Call.parse("post-rewrite", ["amend"], {}).rewrite == "amend"
    r = Call.parse("pre-rebase", ["main", "topic"], {})
    assert (r.upstream, r.branch) == ("main", "topic")
    assert Call.parse("pre-rebase", ["main"], {}).branch == ""
    assert Call.parse("reference-transaction", ["prepared"], {}).state == "prepared"
    assert Call.parse("pre-merge-commit", [], {}) == Call("pre-merge-commit")


def test_pre_commit_hook_arguments_come_from_variables() -> None:
    env = {
        "PRE_COMMIT": "1",
        "PRE_COMMIT_FROM_REF": A,
        "PRE_COMMIT_TO_REF": B,
        "PRE_COMMIT_CHECKOUT_TYPE": "0",
    }
    c = Call.parse("post-checkout", [], env)
    assert c.precommit and (c.prev, c.new) == (A, B) and c.file_checkout
    squash = Call.parse("post-merge", [], {"PRE_COMMIT": "1", "PRE_COMMIT_IS_SQUASH_MERGE": "1"})
    assert squash.squash
    # argv wins when there is one (our plain shim chained behind pre-commit's script)
    assert Call.parse("post-checkout", [A, A, "1"], env).branch_checkout


def test_missing_arguments_are_empty_not_an_error() -> None:
    c = Call.parse("post-checkout", [], {})
    assert c.prev is None and c.new is None and c.branch_checkout
    assert Call.parse("post-rewrite", [], {}).rewrite == ""


def test_one_table_of_hook_facts() -> None:
    assert {"reference-transaction", "pre-rebase", "pre-merge-commit"} == PRE_HOOKS
    assert "post-commit" not in INSTALLED and "reference-transaction" in INSTALLED
    assert {n for n, h in HOOKS.items() if h.autostash} == {
        "pre-rebase",
        "pre-merge-commit",
        "post-merge",
        "post-rewrite",
    }
    assert {n for n, h in HOOKS.items() if h.sees_before} == {"reference-transaction", "pre-rebase"}


def test_git_subcommand_skips_global_options() -> None:
    assert proc.git_subcommand(("git", "switch", "main")) == "switch"
    argv = ("/usr/bin/git", "-C", "x", "-c", "a=b", "restore", "f")
    assert proc.git_subcommand(argv) == "restore"
    assert proc.git_subcommand(("git", "--no-pager", "--git-dir", "d", "pull")) == "pull"
    assert proc.git_subcommand(("git",)) is None
    assert proc.git_subcommand(("python", "switch")) is None
    assert proc.git_subcommand(()) is None


def test_the_user_command_is_the_outermost_git_above_the_hook() -> None:
    hook_sh = proc.Process(10, 5.0, ("/bin/sh", ".git/hooks/post-merge"))
    merge = proc.Process(9, 4.0, ("git", "merge", "FETCH_HEAD"))
    pull = proc.Process(8, 3.0, ("git", "pull"))
    shell = proc.Process(7, 1.0, ("bash",))
    outer = proc.Process(6, 0.5, ("git", "snapshot", "run", "--", "git", "pull"))
    assert proc.user_git_command([hook_sh, merge, pull, shell, outer]) == pull
    assert proc.user_git_command([hook_sh, shell]) is None
