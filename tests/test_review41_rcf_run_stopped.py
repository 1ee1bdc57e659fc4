"""review41 RCF, of e16fe48 (RED41 R2 F9): post-rewrite leaves out a loss a report since its
snapshot named from the same snapshot (`run -- git rebase main` named what the rebase
destroyed before it stopped; the plain `git rebase --continue` named it again). But the
same (snapshot, path) is also what post-rewrite finds when the continue destroyed a second,
later version: the user wrote x.log again during the stop (in no snapshot), and a later
pick added x.log over it. Before e16fe48 that line said "git rebase destroyed x.log (an
earlier version ... is in snapshot N; later edits, if any, were not saved)"; after it,
nothing named the continue's loss. A loss already named is left out now only where no move
of HEAD after that report added the path (a pick that adds a file is what writes over an
untracked one; one that changes or deletes a tracked file git refuses over an edit).

Real git, the hooks installed as a user installs them. The continue's commits (and reflog
lines) are dated a minute ahead: a move in the same second as the report counts as one
before it (reflog times are whole seconds).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from hookhelpers import commit
from hookhelpers import put_venv_on_path
from hookhelpers import write
from stoppedhelpers import SECRET
from stoppedhelpers import hooked_topic
from stoppedhelpers import resolve

EDITED = b"EDITED DURING THE STOP\n"


def _untrack(repo: Path, rel: str) -> None:
    git(repo, "rm", "-q", "--cached", rel)
    git(repo, "commit", "-q", "-m", f"untrack {rel}")
    (repo / rel).unlink()


def test_a_later_version_the_continue_destroyed_is_still_named(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """topic: add x.log, untrack it, change a.txt (conflicts), add x.log again, untrack it.
    `run -- git rebase main` stops on a.txt and names x.log (SECRET, the first pick's loss);
    the user writes x.log (EDITED) during the stop; the continue's pick adds x.log over it."""
    picks: list[tuple[str, bytes | None]] = [("x.log", b"from topic\n"), ("x.log", None)]
    picks += [("a.txt", b"topic\n"), ("x.log", b"from topic, again\n"), ("x.log", None)]
    hooked_topic(repo, monkeypatch, picks)
    ran = gs(repo, "run", "--", "git", "rebase", "main", rc=None)
    assert (repo / ".git" / "rebase-merge").is_dir(), ran.err
    assert not (repo / "x.log").exists()
    resolve(repo)
    write(repo / "x.log", EDITED)  # in no snapshot
    ahead = f"@{int(time.time()) + 60} +0000"
    went_on = git(repo, "rebase", "--continue", GIT_COMMITTER_DATE=ahead)
    assert not (repo / ".git" / "rebase-merge").exists()
    assert not (repo / "x.log").exists()  # EDITED: written over by a pick, then deleted
    assert "x.log" in went_on.err, went_on.err  # was: no line named the continue's loss
    logged = [e["command"] for e in json.loads(gs(repo, "losses", "--json").out)]
    assert logged == ["git rebase main", "git rebase"], logged


def test_a_loss_before_a_stop_at_the_head_it_began_from_is_named(
    repo: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Of d0655d6 (RED41 R2 F1): `git rebase -i HEAD~2` with `exec true`, then both picks,
    then `break`: its checkout of HEAD~2 writes over the user's ignored x.log (HEAD~2 tracks
    it), the fast-forward picks lead HEAD back to where it began, and it stops. The user
    writes a new x.log during the stop; `run -- git rebase --continue` ends it. The stopped
    check took HEAD back at its start for "no move before the stop" and left x.log out as
    the user's own change: SECRET, in the pre-rebase snapshot alone, was named nowhere."""
    put_venv_on_path(monkeypatch)
    commit(repo, ".gitignore", b"*.log\n")
    commit(repo, "x.log", b"old\n", force=True)
    _untrack(repo, "x.log")
    commit(repo, "b.txt", b"b\n")
    gs(repo, "install")
    write(repo / "x.log", SECRET)
    todo = tmp_path / "todo.sh"
    todo.write_text(
        "printf 'exec true\\npick %s\\npick %s\\nbreak\\n'"
        ' $(git rev-parse HEAD~1) $(git rev-parse HEAD) > "$1"\n'
    )
    began = git(repo, "rev-parse", "HEAD").out.strip()
    git(repo, "rebase", "-i", "HEAD~2", GIT_SEQUENCE_EDITOR=f"sh {todo}")
    assert (repo / ".git" / "rebase-merge").is_dir()
    assert git(repo, "rev-parse", "HEAD").out.strip() == began
    assert not (repo / "x.log").exists()  # the checkout wrote over it, a pick deleted it
    write(repo / "x.log", EDITED)
    gs(repo, "run", "--", "git", "rebase", "--continue")
    (entry,) = json.loads(gs(repo, "losses", "--json").out)
    assert [x["path"] for x in entry["lost"]] == ["x.log"]
    assert gs(repo, "cat", str(entry["snapshot"]), "x.log").out.encode() == SECRET
