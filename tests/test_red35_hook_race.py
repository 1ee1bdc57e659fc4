"""A snapshot committed while the git command ran, before its post-hook began (RED35 H1).

A post-hook compares what the operation destroyed with the snapshot "before" it. It took the
newest one committed before the hook itself began: a snapshot taken while the git command ran
(a `git snapshot create` from an IDE or a timer, the watcher's) whose walk read a file after
git wrote it holds git's version, not the user's. Compared with it, the file looked unchanged:
no report at all, and nothing for `undo`. The snapshot compared with is now the newest
committed before the git command began (or this command's own pre-hook snapshot, taken before
git touched the worktree); one committed since is compared only where it holds a version git
destroyed (findlosses._in_flight, the RED34 A3 rule).

Both races are held open deterministically by git itself, as users meet them: a smudge filter
(git-lfs's way: seconds a file) that waits after git wrote .env and before it runs
post-checkout; the editor of `git merge`'s message, which waits after the merge wrote the
worktree and before post-merge. The concurrent snapshot is a `git snapshot create` run then.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from conftest import init_repo
from hookhelpers import install
from hookhelpers import put_venv_on_path
from hookhelpers import side_commit

NEWEST = "ENV v2, the user's newest\n"
THEIRS = "B's env\n"

# waits until the file named by $HOLD/go exists (and says it waits: $HOLD/waiting)
_WAITER = 'touch "$HOLD/waiting"; while [ ! -e "$HOLD/go" ]; do sleep 0.02; done'


def _wait_for(path: Path, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while not path.exists():
        if proc.poll() is not None:
            raise AssertionError(f"git ended first: {proc.communicate()}")
        assert time.monotonic() < deadline, f"{path} never came"
        time.sleep(0.02)


def held_checkout(
    r: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, slow: str, *args: str
) -> tuple[subprocess.Popen[str], Path]:
    """`git checkout ARGS` started in *r* and held while git smudges the file *slow* (the
    files git writes before it are written): the checkout, and the folder whose "go" file
    lets it go on (released)."""
    hold = tmp_path / "hold"
    hold.mkdir()
    (r / ".git" / "info" / "attributes").write_text(f"{slow} filter=slow\n")
    git(r, "config", "filter.slow.clean", "cat")
    git(r, "config", "filter.slow.smudge", f"{_WAITER}; cat")
    monkeypatch.setenv("HOLD", str(hold))
    cmd = ["git", "checkout", *args]
    checkout = subprocess.Popen(cmd, cwd=r, stderr=subprocess.PIPE, text=True)
    _wait_for(hold / "waiting", checkout)
    return checkout, hold


def released(checkout: subprocess.Popen[str], hold: Path) -> str:
    """The held checkout let go and ended well: its stderr (the hooks' lines)."""
    (hold / "go").touch()
    _, err = checkout.communicate(timeout=120)
    assert checkout.returncode == 0, err
    return err


def _repo(tmp_path: Path) -> Path:
    """main without .env (ignored there); B tracks .env and zz.txt."""
    r = Path(os.path.realpath(init_repo(tmp_path / "w")))
    (r / "a.txt").write_text("a\n")
    git(r, "add", ".")
    git(r, "commit", "-q", "-m", "init")
    git(r, "checkout", "-q", "-b", "B")
    (r / ".env").write_text(THEIRS)
    (r / "zz.txt").write_text("zz\n")  # after .env in git's order of writing
    git(r, "add", ".env", "zz.txt")
    git(r, "commit", "-q", "-m", "B's env")
    git(r, "checkout", "-q", "main")
    (r / ".git" / "info" / "exclude").write_text(".env\n")
    return r


def _saved_edit(r: Path) -> int:
    """The user's newest .env, saved in a snapshot; its id."""
    (r / ".env").write_text(NEWEST)
    gs(r, "create")
    got = json.loads(gs(r, "list", "--json").out)
    return int(max(s["id"] for s in got))


def _check_report(r: Path, err: str, saved: int) -> None:
    assert f"restore {saved} .env" in err, err  # (was: no report at all)
    entries = json.loads(gs(r, "losses", "--json").out)
    # once: a `git snapshot create` run while the merge waited left its pending note alone
    # (RED35 S1: it took it for a stopped merge's and reported the same loss too)
    assert [(e["snapshot"], tuple(x["path"] for x in e["lost"])) for e in entries] == [
        (saved, (".env",))
    ], entries
    gs(r, "undo")
    assert (r / ".env").read_text() == NEWEST


def test_a_snapshot_taken_while_checkout_ran_is_not_the_one_compared_with(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    put_venv_on_path(monkeypatch)
    r = _repo(tmp_path)
    install(r)
    saved = _saved_edit(r)
    # held: .env written, zz.txt being smudged
    checkout, hold = held_checkout(r, tmp_path, monkeypatch, "zz.txt", "-q", "B")
    assert (r / ".env").read_text() == THEIRS
    gs(r, "create")  # reads B's .env, committed before post-checkout begins
    err = released(checkout, hold)
    _check_report(r, err, saved)


def test_one_that_read_the_users_version_while_checkout_ran_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The other way round: the snapshot taken while the checkout ran read .env before git
    wrote it (git waits on a file before it): it holds the user's newest, which the
    snapshot before the command does not."""
    put_venv_on_path(monkeypatch)
    r = _repo(tmp_path)
    install(r)
    (r / ".env").write_text("ENV v1\n")
    gs(r, "create")  # snapshot 1: an older .env
    (r / ".env").write_text(NEWEST)
    side_commit(r, "B2", {".a": b"a\n"}, base="B")  # ".a": written before .env
    # held: .a being smudged, .env not written yet
    checkout, hold = held_checkout(r, tmp_path, monkeypatch, ".a", "-q", "B2")
    assert (r / ".env").read_text() == NEWEST
    gs(r, "create")  # reads the user's newest .env, committed after the checkout began
    watch = max(s["id"] for s in json.loads(gs(r, "list", "--json").out))
    err = released(checkout, hold)
    _check_report(r, err, watch)


@pytest.mark.parametrize("edited_since", [False, True])
def test_a_snapshot_taken_while_merge_waited_for_its_message_is_not_compared_with(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, edited_since: bool
) -> None:
    """*edited_since*: a file changed after the user's snapshot, so the merge's pre-hook
    (reference-transaction) takes a new one, committed after the merge began: it is the
    one compared with (it holds what the merge destroyed)."""
    put_venv_on_path(monkeypatch)
    r = _repo(tmp_path)
    (r / "m.txt").write_text("main's own\n")  # main moves on: a merge commit, its message
    git(r, "add", "m.txt")
    git(r, "commit", "-q", "-m", "main's own")
    install(r)
    saved = _saved_edit(r)
    if edited_since:
        (r / "notes.txt").write_text("new\n")
    hold = tmp_path / "hold"
    hold.mkdir()
    monkeypatch.setenv("HOLD", str(hold))
    monkeypatch.setenv("GIT_EDITOR", f"{_WAITER}; :")
    merge = subprocess.Popen(
        ["git", "merge", "--no-ff", "--edit", "B"], cwd=r, stderr=subprocess.PIPE, text=True
    )
    _wait_for(hold / "waiting", merge)  # the worktree merged, the message being written
    assert (r / ".env").read_text() == THEIRS
    gs(r, "create")  # holds the merge's .env, committed before post-merge begins
    (hold / "go").touch()
    _, err = merge.communicate(timeout=120)
    assert merge.returncode == 0, err
    if edited_since:
        listed = json.loads(gs(r, "list", "--json").out)
        (saved,) = [s["id"] for s in listed if s["trigger"] == "reference-transaction"]
    _check_report(r, err, saved)
