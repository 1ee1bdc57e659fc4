"""RED44 F3, F4: what `undo` and `losses` advise after a command git runs no hook for.

F3: after a plain `git reset --hard` with the watcher on, `undo` and `losses` said "see what one
took with git snapshot diff latest"; but the watcher snapshots the worktree a few seconds after
the reset, so `latest` held the damage and `diff latest` said "no changes": a user following
the advice concluded nothing was lost. Now the advice names the newest snapshot from before the
last change the watcher saw when the latest one holds what the disk does at every path that
change touched (`latest` otherwise, as before).

F4: `undo` after such a reset undid the latest loss report, an older and unrelated one (a file
the user discarded on purpose), and said nothing of the edit the reset took, which a snapshot
taken since held. Now undo says how old the report is and how many snapshots were taken since;
when one of those holds a file now gone from the disk that git cannot give back, it names it
with its `restore --newest` and refuses (with --dry-run: the lines, and what it would undo),
printing the restore command that undoes the old report all the same.

The watcher's snapshots are taken as the watcher takes them (worktree.take, trigger "watch"),
in-process: no daemon, no timing.
"""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from hookhelpers import install
from hookhelpers import put_venv_on_path

from git_snapshot import gitrepo
from git_snapshot import worktree
from git_snapshot.store import Store

README = Path(__file__).resolve().parent.parent / "README.md"


def _watch_snapshot(repo: Path) -> int:
    """A snapshot as the watcher takes it after changes settle."""
    with Store() as store:
        snap = worktree.take(store, gitrepo.find_repo(str(repo)), trigger="watch").snapshot
    assert snap is not None
    return int(snap.id)


def _base(repo: Path) -> None:
    (repo / "a.txt").write_bytes(b"one\n")
    (repo / "b.txt").write_bytes(b"two\n")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "base")
    install(repo)


def _diff_id(text: str) -> str:
    m = re.search(r"git snapshot diff ([^\s,]+)", text)
    assert m, text
    return m.group(1)


def test_the_advice_after_a_reset_names_a_snapshot_that_shows_the_loss(repo: Path) -> None:
    """F3: the watcher saved the edit, then the reset's result; the advice's diff shows a.txt."""
    _base(repo)
    (repo / "a.txt").write_bytes(b"PRECIOUS edit\n")
    saved = _watch_snapshot(repo)
    git(repo, "reset", "-q", "--hard")  # no hook: no report
    damage = _watch_snapshot(repo)  # the watcher's snapshot of the damage
    assert damage > saved
    assert "no changes" in gs(repo, "diff", "latest").out  # (what the advice named before)
    undo = gs(repo, "undo", rc=1)
    ident = _diff_id(undo.err)
    assert ident == str(saved), undo.err
    shown = gs(repo, "diff", ident).out
    assert "M a.txt" in shown, shown
    losses = gs(repo, "losses").out  # (which says: git snapshot diff ID)
    assert f"snapshot {saved}, the newest from before the last change the watcher saw" in losses
    # what it gives back as the same line says
    gs(repo, "restore", "--newest", "a.txt")
    assert (repo / "a.txt").read_bytes() == b"PRECIOUS edit\n"


def test_the_advice_names_latest_when_no_snapshot_saved_the_damage(repo: Path) -> None:
    """F3: with no watcher (or before it looked), latest is from before the reset: as before."""
    _base(repo)
    (repo / "a.txt").write_bytes(b"PRECIOUS edit\n")
    _watch_snapshot(repo)
    git(repo, "reset", "-q", "--hard")
    ident = _diff_id(gs(repo, "undo", rc=1).err)
    assert ident == "latest"
    assert "M a.txt" in gs(repo, "diff", ident).out


@pytest.fixture
def discarded(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """a.txt's scratch edit discarded on purpose (`checkout -- a.txt`: report 1, a.txt)."""
    put_venv_on_path(monkeypatch)  # the printed commands are pasted into sh
    _base(repo)
    (repo / "a.txt").write_bytes(b"scratch edit I discard on purpose\n")
    gs(repo, "create", "-m", "scratch")
    (rep,) = git(repo, "checkout", "--", "a.txt").reports
    assert rep.names == "a.txt"
    return repo


def test_undo_after_an_unreported_reset_names_its_loss_and_writes_nothing(
    discarded: Path,
) -> None:
    """F4 (repro/undo_after_reset.sh): b.txt's edit, in a snapshot taken since the report, is
    named with its restore command; the discarded a.txt is not written back."""
    r = discarded
    (r / "b.txt").write_bytes(b"PRECIOUS edit\n")
    later = _watch_snapshot(r)
    git(r, "reset", "-q", "--hard")  # no hook: b.txt's edit goes, no report
    dry = gs(r, "undo", "--dry-run")
    assert "would undo: git checkout (" in dry.out and "1 snapshot taken since" in dry.out
    undo = gs(r, "undo", rc=1)
    for ran in (dry, undo):
        (line,) = [ln for ln in ran.err_lines if ln.startswith("git-snapshot: b.txt:")]
        assert f"snapshot {later} holds it" in line and "restore --newest b.txt" in line
    assert (r / "a.txt").read_bytes() == b"one\n"  # nothing written
    assert "1 snapshot taken since" in undo.err and "--dry-run" in undo.err, undo.err
    assert all(len(line) <= 200 for line in undo.err_lines), undo.err  # (RED40 D9)
    # the line's command gives back the loss the user meant
    cmd = undo.err.split("restore it with: ", 1)[1].splitlines()[0]
    subprocess.run(shlex.split(cmd), cwd=r, check=True, capture_output=True)
    assert (r / "b.txt").read_bytes() == b"PRECIOUS edit\n"
    # and the old report can still be undone, by the command printed last
    tail = undo.err_lines[-1].split("all the same", 1)[1].split(": ", 1)[1]
    subprocess.run(shlex.split(tail), cwd=r, check=True, capture_output=True)
    assert (r / "a.txt").read_bytes() == b"scratch edit I discard on purpose\n"


def test_undo_right_after_the_report_undoes_it(discarded: Path) -> None:
    """F4: the ordinary case, the watcher's snapshot of the state after the command taken
    since: undo acts as before, saying how old the report is."""
    r = discarded
    _watch_snapshot(r)
    ran = gs(r, "undo")
    assert re.search(r"undoing: git checkout \([^)]*, \d+s ago; 1 snapshot taken since\)", ran.out)
    assert (r / "a.txt").read_bytes() == b"scratch edit I discard on purpose\n"


def test_undo_says_the_age_of_the_report(discarded: Path) -> None:
    ran = gs(discarded, "undo")
    assert re.search(r"undoing: git checkout \([^)]*, \d+s ago\), from snapshot 1", ran.out), ran


def test_one_list_of_commands_with_no_hook_agrees_with_the_readme(repo: Path) -> None:
    """F7.3: losses and undo name the same list, every one in README's table with no hook."""
    from git_snapshot.commands.losses import NO_HOOK_COMMANDS

    rows = [ln for ln in README.read_text().splitlines() if ln.startswith("| `git ")]
    none = " ".join(ln for ln in rows if "**none" in ln)
    for cmd in NO_HOOK_COMMANDS:
        assert f"git {cmd}" in none, cmd
    for cmd in ("merge --abort", "rebase --abort", "rebase --skip", "cherry-pick -n", "revert -n"):
        assert cmd in NO_HOOK_COMMANDS
    assert ", ".join(NO_HOOK_COMMANDS) in gs(repo, "undo", rc=1).err
    assert ", ".join(f"git {c}" for c in NO_HOOK_COMMANDS) in gs(repo, "losses").out
