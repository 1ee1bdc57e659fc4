"""RED34 C3: a linked worktree added at the path of a removed one took that one's snapshots
for its own in every history command (they went by path): `list`, `log`, `find`, `latest`
(so `show`, `cat`, `diff` and `restore latest PATH`) and `restore --newest PATH`, which wrote
the removed worktree's `.env` (another branch's secret) and uncommitted edit into the new one
without `--here`. The hooks already told them apart (identity.owns, RED33 V1).

Now those commands count only the worktree's own snapshots; the removed one's stay the
repository's: reached by number (with `--here` to restore them in place), by `list --repo`,
`find --repo` and `--all`, and a line says so where this worktree's would show nothing or
fewer.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import NamedTuple

import pytest
from clihelpers import git
from clihelpers import gs
from hookhelpers import commit
from hookhelpers import install
from hookhelpers import put_venv_on_path
from hookhelpers import write

SECRET = b"SECRET=branch-one\n"
EDIT = b"base\nedit on one\n"


class Reused(NamedTuple):
    wt: Path
    n: int  # the removed worktree's snapshot
    hooked: bool  # the new worktree has a snapshot of its own (its post-checkout's)


@pytest.fixture(params=["hooked", "manual"])
def reused(repo: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Reused:
    """Worktree wt on branch one (an ignored .env, an edit in f.txt, snapshot N) removed with
    --force; a new worktree on branch two added at its path (hooked: its post-checkout took
    a snapshot of its own; manual: no hooks, as in the finding)."""
    put_venv_on_path(monkeypatch)
    commit(repo, ".gitignore", b"*.env\n")
    commit(repo, "f.txt", b"base\n")
    if request.param == "hooked":
        install(repo)
    wt = repo.parent / "wt"
    git(repo, "worktree", "add", "-q", str(wt), "-b", "one")
    write(wt / ".env", SECRET)
    write(wt / "f.txt", EDIT)
    n = json.loads(gs(wt, "create", "-m", "one-1", "--json"))["id"]
    git(repo, "worktree", "remove", "--force", str(wt))
    git(repo, "worktree", "add", "-q", str(wt), "-b", "two")
    return Reused(wt, n, request.param == "hooked")


def _ids(wt: Path, *args: str) -> list[int]:
    return [s["id"] for s in json.loads(gs(wt, "list", "--json", *args))]


def _pasted(wt: Path, cmd: str) -> subprocess.CompletedProcess[str]:
    """A command a hint printed, run as the user pastes it."""
    return subprocess.run(["sh", "-c", cmd], cwd=wt, capture_output=True, text=True, check=False)


def _command(text: str, after: str) -> str:
    """The command a hint gives after *after* (up to the end of its line or a ';')."""
    return text.split(after, 1)[1].split("\n")[0].split(";")[0].strip()


def test_list_leaves_them_out_and_says_where_they_are(reused: Reused) -> None:
    wt, n, hooked = reused
    ids = _ids(wt)
    assert n not in ids and len(ids) == (1 if hooked else 0), ids
    ran = gs(wt, "list")
    assert "one-1" not in ran.out, ran.out
    cmd = _command(ran.out + ran.err, "listed by: ")
    assert cmd.startswith("git snapshot list --repo="), ran
    assert "one-1" in _pasted(wt, cmd).stdout, cmd  # the removed one's stay reachable
    assert n in [s["id"] for s in json.loads(gs(wt, "list", "--all", "--json"))]
    assert gs(wt, "list", "--json").err == ""  # (json: no hint)


def test_restore_newest_does_not_write_the_removed_worktrees_file(reused: Reused) -> None:
    wt, n, _ = reused
    ran = gs(wt, "restore", "--newest", ".env", rc=1)
    assert not (wt / ".env").exists()
    # ... and says how to have it, on purpose
    cmd = _command(ran.err, "with: ")
    assert cmd == f"git snapshot restore {n} .env --here", ran.err
    assert _pasted(wt, cmd).returncode == 0
    assert (wt / ".env").read_bytes() == SECRET


def test_latest_is_this_worktrees_own(reused: Reused) -> None:
    wt, n, hooked = reused
    if not hooked:  # none of its own: latest names none, and the line says where they are
        for args in (
            ["restore", "latest", "f.txt"],
            ["show", "latest"],
            ["cat", "latest", "f.txt"],
        ):
            ran = gs(wt, *args, rc=1)
            assert "no snapshots of this worktree yet" in ran.err, (args, ran.err)
            assert "list --repo=" in ran.err, ran.err
        gs(wt, "diff", rc=1)
        assert (wt / "f.txt").read_bytes() == b"base\n"
        gs(wt, "create")
    own = _ids(wt)[-1]
    assert json.loads(gs(wt, "show", "latest", "--json"))["id"] == own
    assert gs(wt, "cat", "latest", "f.txt").out == "base\n"
    assert gs(wt, "diff", "--exit-code").rc == 0
    gs(wt, "diff", "latest~1", "latest", rc=1)  # one snapshot of its own: no latest~1
    assert "one" not in gs(wt, "show", "latest").out.split("\n")[0]
    gs(wt, "restore", "latest", "f.txt")
    assert (wt / "f.txt").read_bytes() == b"base\n"
    # a number still reaches the removed one's (read-only commands as before)
    assert gs(wt, "cat", str(n), "f.txt").out == EDIT.decode()


def test_log_and_find_leave_them_out_and_say_where_they_are(reused: Reused) -> None:
    wt, n, hooked = reused
    if not hooked:
        gs(wt, "-m", "two-1")  # one of its own, without .env
    ran = gs(wt, "log", ".env", rc=1)
    assert "in none of the 1 snapshot(s) of this worktree" in ran.err, ran.err
    assert f"git snapshot restore {n} .env --here" in ran.err, ran.err
    assert n not in [s["id"] for s in json.loads(gs(wt, "log", "f.txt", "--json"))]
    out = gs(wt, "find", ".env").out
    assert out.startswith("no snapshot of this worktree holds a path matching"), out
    found = _pasted(wt, _command(out, "listed by: "))
    assert ".env" in found.stdout, (out, found)
    # list shows its own and says, on stderr, that there are others at this path
    ran = gs(wt, "list")
    assert "one-1" not in ran.out and "listed by: git snapshot list --repo=" in ran.err, ran


def test_restoring_the_removed_ones_by_number_needs_here(reused: Reused) -> None:
    """README: a snapshot taken in another worktree is restored here only with --here."""
    wt, n, _ = reused
    ran = gs(wt, "restore", str(n), "f.txt", rc=1)
    assert "--here" in ran.err, ran.err
    assert (wt / "f.txt").read_bytes() == b"base\n"
    gs(wt, "restore", str(n), "f.txt", "--here")
    assert (wt / "f.txt").read_bytes() == EDIT


def test_a_third_worktree_at_the_path_sees_neither(reused: Reused) -> None:
    wt, n, _ = reused
    write(wt / ".env", b"SECRET=branch-two\n")
    two = json.loads(gs(wt, "create", "-m", "two-1", "--json"))["id"]
    repo = wt.parent / "repo"
    git(repo, "worktree", "remove", "--force", str(wt))
    git(repo, "worktree", "add", "-q", str(wt), "-b", "three")
    ids = _ids(wt)
    assert n not in ids and two not in ids, ids
    ran = gs(wt, "restore", "--newest", ".env", rc=1)
    assert not (wt / ".env").exists()
    assert _command(ran.err, "with: ") == f"git snapshot restore {two} .env --here", ran.err


def test_the_main_worktree_and_plain_linked_ones_are_unchanged(repo: Path) -> None:
    write(repo / "a.env", b"x\n")
    a = json.loads(gs(repo, "create", "--json"))["id"]
    wt = repo.parent / "plain"
    git(repo, "worktree", "add", "-q", str(wt), "-b", "p")
    b = json.loads(gs(wt, "create", "--json"))["id"]
    assert _ids(repo) == [a] and _ids(wt) == [b]
    ran = gs(wt, "list")
    assert ran.err == "", ran.err
    assert json.loads(gs(wt, "show", "latest", "--json"))["id"] == b


def test_the_restore_command_log_gives_takes_a_dash_name_as_a_path(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """log's hint for a removed worktree's snapshot names its PATH as every printed command
    does (output.path_args): ``./-x``, which restore reads as a path, not ``-x``, an option."""
    put_venv_on_path(monkeypatch)
    commit(repo, "f.txt", b"base\n")
    wt = repo.parent / "wt"
    git(repo, "worktree", "add", "-q", str(wt), "-b", "one")
    write(wt / "-x", b"dash\n")
    n = json.loads(gs(wt, "create", "-m", "one-1", "--json"))["id"]
    git(repo, "worktree", "remove", "--force", str(wt))
    git(repo, "worktree", "add", "-q", str(wt), "-b", "two")
    gs(wt, "-m", "two-1")
    ran = gs(wt, "log", "--", "-x", rc=1)
    cmd = _command(ran.err, "with: ")
    assert cmd == f"git snapshot restore {n} ./-x --here", ran.err
    assert _pasted(wt, cmd).returncode == 0 and (wt / "-x").read_bytes() == b"dash\n"
