"""The hooks through the real pre-commit framework.

The hook repository is a throwaway git repo made from the current working tree, so
uncommitted changes are what is tested; pre-commit builds its environment for it once per run
(tests/precommithelpers.py; the fixtures `hook_repo` and `pc` are conftest's); the
configuration is the one the README tells users to paste.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from clihelpers import Ran
from clihelpers import git
from clihelpers import gs
from clihelpers import run
from hookhelpers import COMMITTED
from hookhelpers import SECRET
from hookhelpers import by_id
from hookhelpers import commit
from hookhelpers import env_report
from hookhelpers import head
from hookhelpers import restore_env
from hookhelpers import saved
from hookhelpers import side_commit
from hookhelpers import snaps
from hookhelpers import triggers
from hookhelpers import write
from precommithelpers import ROOT
from precommithelpers import HookRepo
from precommithelpers import pc_install
from precommithelpers import readme_config

SNAP_LINE = re.compile(r"^git-snapshot: snapshot (\d+) \(([a-z-]+)\)")


def hook_ids() -> list[tuple[str, str]]:
    """(id, stage) of every hook in .pre-commit-hooks.yaml."""
    text = (ROOT / ".pre-commit-hooks.yaml").read_text()
    items = re.split(r"^- ", text, flags=re.M)[1:]
    out = []
    for item in items:
        hid = re.search(r"^id: (\S+)$", item, re.M)
        stages = re.search(r"^  stages: \[([^\]]+)\]$", item, re.M)
        assert hid and stages, item
        (stage,) = [s.strip() for s in stages.group(1).split(",")]
        out.append((hid.group(1), stage))
    return out


def test_readme_names_every_hook_id() -> None:
    """The config to paste has every hook id but the optional post-commit one, which the
    README's configuration names (snapshot.postCommit)."""
    ids = hook_ids()
    assert ids[-1] == ("snapshot-post-commit", "post-commit")
    assert "`snapshot-post-commit`" in (ROOT / "README.md").read_text()
    ids = ids[:-1]
    assert len(ids) == 5 and {s for _, s in ids} == {
        "pre-merge-commit",
        "pre-rebase",
        "post-checkout",
        "post-merge",
        "post-rewrite",
    }
    config = readme_config()
    assert re.findall(r"^\s+- id: (\S+)$", config, re.M) == [i for i, _ in ids]
    m = re.search(r"^default_install_hook_types: \[([^\]]+)\]$", config, re.M)
    assert m
    types = {t.strip() for t in m.group(1).split(",")}
    assert {s for _, s in ids} <= types  # `pre-commit install` installs every stage we use


@pytest.mark.slow
def test_the_hook_pre_commit_installed_runs_the_c_speedups(hook_repo: HookRepo, repo: Path) -> None:
    """pre-commit's `pip install .` of the hook repository builds the C module where a
    compiler is: the git-snapshot its hooks run says the C speedups are in use, from its env."""
    from test_native_build import can_build

    if not can_build():
        pytest.skip("no C compiler or no Python.h: pre-commit's env has the pure-Python twin")
    (env,) = hook_repo.home.glob("repo*/py_env-*")
    ran = run(repo, str(env / "bin" / "git-snapshot"), "doctor", rc=1)  # no hook installed
    (line,) = [ln for ln in ran.out.splitlines() if ln.startswith("C speedups: ")]
    assert line.startswith(f"C speedups: in use ({env}/lib/"), line


# --------------------------------------------------------------------------- the framework


def seen(r: Path, ran: Ran) -> Ran:
    """What the user sees of *ran*: pre-commit hides a passing hook's output and the tests
    have no terminal, so a loss report is printed by the next git-snapshot command, once."""
    nxt = gs(r, "list")
    assert gs(r, "list").said == []  # once
    return Ran(ran.rc, ran.out, ran.err + nxt.err)


def said_snaps(ran: Ran) -> list[str]:
    return [m.group(2) for m in (SNAP_LINE.match(ln) for ln in ran.said) if m]


@pytest.mark.slow
def test_checkout_new_branch_stores_the_unstaged_edit(pc: Path, tmp_path: Path) -> None:
    """pre-commit takes unstaged edits out of the worktree before any hook runs; the snapshot
    must still hold them."""
    r = pc
    pc_install(r)
    write(r / "notes.txt", b"unstaged \xff edit")
    ran = git(r, "checkout", "-b", "new")
    assert "Stashing unstaged files" in ran.out + ran.err  # pre-commit did hide the edit
    assert (r / "notes.txt").read_bytes() == b"unstaged \xff edit"  # and put it back
    (snap,) = snaps(r)
    assert snap["trigger"] == "post-checkout" and snap["branch"] == "new"
    assert said_snaps(ran) == []  # pre-commit's "...Passed" is the one line
    assert saved(r, snap["id"], tmp_path)["notes.txt"] == b"unstaged \xff edit"

    # amend: pre-commit passes "amend" in PRE_COMMIT_REWRITE_COMMAND; no snapshot for it
    ran = git(r, "commit", "-q", "--amend", "--no-verify", "-m", "amended")
    assert ran.said == [] and len(snaps(r)) == 1


@pytest.mark.slow
@pytest.mark.parametrize("plain_too", [False, True], ids=["pre-commit", "pre-commit+plain"])
def test_three_way_merge(pc: Path, tmp_path: Path, plain_too: bool) -> None:
    """pre-merge-commit (after the merge wrote the worktree) stores the merged tree with the
    unstaged edit. The ignored file the merge overwrote is reported against the snapshot
    before the merge: reference-transaction with the plain hooks, else one taken by hand.
    pre-commit's own `git checkout -- .` in the middle of the merge records nothing."""
    r = pc
    side_commit(r, "feature", {".env": COMMITTED, "f.txt": b"f\n"})
    commit(r, "m.txt", b"m\n")
    pc_install(r, plain_too)
    write(r / ".env", SECRET)
    write(r / "notes.txt", b"unstaged edit\n")
    if not plain_too:
        gs(r, "create", "-m", "by hand")
    old = head(r)

    ran = seen(r, git(r, "merge", "--no-edit", "feature"))
    assert head(r) != old and (r / "f.txt").exists()
    assert (r / "notes.txt").read_bytes() == b"unstaged edit\n"
    before = "reference-transaction" if plain_too else "manual"
    # no post-checkout from pre-commit's stash-and-checkout in the middle of the merge (the
    # post-merge snapshot differs only by the mtime pre-commit gave notes.txt putting it back)
    assert triggers(r) in ([before, "pre-merge-commit"], [before, "pre-merge-commit", "post-merge"])
    pmc = snaps(r)[1]
    files = saved(r, pmc["id"], tmp_path)
    assert files["notes.txt"] == b"unstaged edit\n" and files["f.txt"] == b"f\n"

    rep = env_report(ran, "git merge")  # once, although with both installed every hook runs twice
    assert rep.snap == snaps(r)[0]["id"] and by_id(r, rep.snap)["head"] == old
    assert saved(r, rep.snap, tmp_path)[".env"] == SECRET
    restore_env(r, rep)


@pytest.mark.slow
def test_rebase_autostash_keeps_the_unstaged_edit(pc: Path, tmp_path: Path) -> None:
    """`git rebase` refuses unstaged edits unless --autostash; git's autostash runs before
    pre-rebase, so the snapshot reads the edit from the autostash commit."""
    r = pc
    side_commit(r, "feature", {".env": COMMITTED, "f.txt": b"f\n"})
    commit(r, "mine.txt", b"mine\n")
    pc_install(r)
    write(r / ".env", SECRET)
    write(r / "notes.txt", b"unstaged edit\n")
    old = head(r)

    ran = seen(r, git(r, "rebase", "--autostash", "feature"))
    assert (r / "f.txt").exists() and (r / "notes.txt").read_bytes() == b"unstaged edit\n"
    assert triggers(r) == ["pre-rebase", "post-rewrite"]  # nothing from inside the rebase
    pre, post = snaps(r)
    assert pre["head"] == old
    assert saved(r, pre["id"], tmp_path)["notes.txt"] == b"unstaged edit\n"
    assert saved(r, post["id"], tmp_path)["notes.txt"] == b"unstaged edit\n"
    rep = env_report(ran, "git rebase")
    assert rep.snap == pre["id"]
    restore_env(r, rep)


@pytest.mark.slow
def test_branch_checkout_reports_through_pre_commit(pc: Path, tmp_path: Path) -> None:
    r = pc
    side_commit(r, "feature", {".env": COMMITTED})
    pc_install(r)
    write(r / ".env", SECRET)
    gs(r, "create")
    ran = git(r, "checkout", "-q", "feature")
    rep = env_report(seen(r, ran), "git checkout")
    assert by_id(r, rep.snap)["trigger"] == "manual"
    restore_env(r, rep)


@pytest.mark.slow
def test_linked_worktree_through_pre_commit(pc: Path, tmp_path: Path) -> None:
    r = pc
    pc_install(r)
    wt = tmp_path / "wt"
    write(r / "notes.txt", b"main's edit\n")
    git(r, "worktree", "add", "-q", "-b", "wtb", str(wt))
    (snap,) = snaps(wt)
    assert snap["worktree"] == str(wt.resolve()) and snap["trigger"] == "post-checkout"
    assert saved(wt, snap["id"], tmp_path)["notes.txt"] == b"committed notes\n"
