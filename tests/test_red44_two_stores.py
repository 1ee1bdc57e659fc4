"""Session 44 (fixF1; red44 F1): snapshot ids are per store. A hook that ran with one store
(a GUI's or IDE's git, cron, a shell that did not read the profile setting GIT_SNAPSHOT_STORE)
printed `restore with: git snapshot restore 3 x.env`; pasted in a terminal whose store is
another one, where this repository's snapshot 3 also exists, it restored that store's older
x.env, silently. Lines held for later in the git dir (the watcher's, pre-commit's) were
printed by the next command of any store, with the other store's number; `undo` in the other
store found no report and said nothing of the one there.

Now a worktree snapshotted into more than one store gets commands that name the store
(`GIT_SNAPSHOT_STORE=A git snapshot restore ...`); a bare id that the other store also has is
refused with one line naming both (`--this-store` takes this store's); held lines carry
their store and are printed with it named elsewhere; `undo` names the store holding the
worktree's newer report. Real hooks, two stores.
"""

from __future__ import annotations

import os
import shlex
import subprocess
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from hookhelpers import install
from hookhelpers import put_venv_on_path

from git_snapshot import lossrecord
from git_snapshot.gitrepo import find_repo
from git_snapshot.store import Store


def env_repo(tmp_path: Path, name: str | bytes = "repo") -> Path:
    """tmp_path/*name*, hooks installed: *.env ignored, main at a.txt, branch b tracks x.env
    ("TRACKED on b"), which a merge of b writes over."""
    repo = Path(os.fsdecode(os.path.join(os.fsencode(tmp_path), os.fsencode(name))))
    repo.mkdir()
    git(repo, "init", "-q")
    install(repo)
    (repo / ".gitignore").write_text("*.env\n")
    (repo / "a.txt").write_text("a\n")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "base")
    git(repo, "switch", "-q", "-c", "b")
    (repo / "x.env").write_text("TRACKED on b\n")
    git(repo, "add", "-f", "x.env")
    git(repo, "commit", "-qm", "b")
    git(repo, "switch", "-q", "main")
    return repo


@pytest.fixture
def two(
    tmp_path: Path, store_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[Path, Path, Path]:
    """red44's two_stores.sh: store B (the terminal's, GIT_SNAPSHOT_STORE) holds snapshots
    1-6 of x.env's OLD value; store A (the GUI's) snapshots 1-3 of its CURRENT one; A's git
    merges a branch that tracks x.env, which git overwrites."""
    put_venv_on_path(monkeypatch)
    repo = env_repo(tmp_path)
    a = tmp_path / "storeA"
    (repo / "x.env").write_text("OLD value\n")
    for m in ("one", "two", "three", "four", "five", "six"):
        gs(repo, "create", "-m", m)  # store B
    (repo / "x.env").write_text("CURRENT SECRET\n")
    for m in ("one", "two", "three"):
        (repo / "a.txt").write_text(f"a {m}\n")
        gs(repo, "create", "-m", m, GIT_SNAPSHOT_STORE=str(a))
    git(repo, "checkout", "-q", "a.txt")
    return repo, a, store_dir


def _command(err: str) -> str:
    (line,) = [ln for ln in err.splitlines() if "restore with: " in ln]
    return line.split("restore with: ", 1)[1].rsplit(")", 1)[0]


def _sh(repo: Path, command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["sh", "-c", command], cwd=repo, capture_output=True, text=True, check=False
    )


def test_a_pasted_restore_command_restores_the_snapshot_its_report_named(
    two: tuple[Path, Path, Path],
) -> None:
    repo, a, _b = two
    ran = git(repo, "merge", "-q", "--no-edit", "b", GIT_SNAPSHOT_STORE=str(a))
    assert (repo / "x.env").read_text() == "TRACKED on b\n"
    cmd = _command(ran.err)
    named = f"GIT_SNAPSHOT_STORE={shlex.quote(str(a))} git snapshot restore --this-store "
    assert cmd.startswith(named), cmd
    n = cmd.removeprefix(named).split()[0]  # B's snapshot of that number holds the OLD value
    assert gs(repo, "cat", n, "x.env", "--this-store").out == "OLD value\n"
    res = _sh(repo, cmd)  # pasted in the terminal: GIT_SNAPSHOT_STORE is B there
    assert res.returncode == 0, res.stderr
    assert (repo / "x.env").read_text() == "CURRENT SECRET\n"


def test_a_bare_id_another_store_of_the_worktree_also_has_is_refused(
    two: tuple[Path, Path, Path],
) -> None:
    repo, a, b = two
    git(repo, "merge", "-q", "--no-edit", "b", GIT_SNAPSHOT_STORE=str(a))
    res = gs(repo, "restore", "3", "x.env", rc=None)  # typed without the store: B's 3
    assert res.rc != 0, res.err
    assert (repo / "x.env").read_text() == "TRACKED on b\n"  # nothing restored
    (line,) = res.err_lines
    assert str(a) in line and "--this-store" in line, line
    cat = gs(repo, "cat", "3", "x.env", rc=None)
    assert cat.rc != 0 and cat.out == "" and str(a) in cat.err, cat.err
    # in the store that took the worktree's latest snapshot: its own, with no question
    assert gs(repo, "cat", "3", "x.env", GIT_SNAPSHOT_STORE=str(a)).out == "CURRENT SECRET\n"
    # on purpose: this store's snapshot 3
    assert gs(repo, "cat", "3", "x.env", "--this-store").out == "OLD value\n"
    gs(repo, "restore", "3", "x.env", "--this-store")
    assert (repo / "x.env").read_text() == "OLD value\n"
    # B took the latest snapshot now (restore's pre-restore): a bare 3 is B's, A's is refused
    assert gs(repo, "cat", "3", "x.env").out == "OLD value\n"
    refused = gs(repo, "restore", "3", "x.env", GIT_SNAPSHOT_STORE=str(a), rc=None)
    assert refused.rc != 0 and str(b) in refused.err, refused.err


def test_undo_in_another_store_names_the_store_holding_the_report(
    two: tuple[Path, Path, Path],
) -> None:
    repo, a, _b = two
    git(repo, "merge", "-q", "--no-edit", "b", GIT_SNAPSHOT_STORE=str(a))
    res = gs(repo, "undo", rc=None)
    assert res.rc != 0, res.err
    assert str(a) in res.err and "GIT_SNAPSHOT_STORE=" in res.err, res.err
    assert (repo / "x.env").read_text() == "TRACKED on b\n"
    gs(repo, "undo", GIT_SNAPSHOT_STORE=str(a))
    assert (repo / "x.env").read_text() == "CURRENT SECRET\n"


def test_a_line_held_by_another_store_is_printed_with_that_store_named(
    two: tuple[Path, Path, Path],
) -> None:
    """As the watcher of store A holds its burst line (bursts.record: lossrecord.hold): the next
    command of store B printed it with A's bare number, and its command restored B's."""
    repo, a, _b = two
    line = (
        "git-snapshot: 5 files under notes/ were deleted at 12:00; saved in snapshot 3; "
        f"restore with: git snapshot -C {shlex.quote(str(repo))} restore 3 x.env"
    )
    lossrecord.hold(find_repo(str(repo)), [line], store=str(a))
    res = gs(repo, "list")
    (said,) = [ln for ln in res.err.splitlines() if "restore with: " in ln]
    cmd = said.split("restore with: ", 1)[1]
    assert cmd.startswith(f"GIT_SNAPSHOT_STORE={shlex.quote(str(a))} git snapshot -C "), said
    assert " restore --this-store 3 x.env" in cmd, said
    assert _sh(repo, cmd).returncode == 0
    assert (repo / "x.env").read_text() == "CURRENT SECRET\n"


def test_a_line_held_by_this_store_moved_or_not_is_printed_as_it_was(
    two: tuple[Path, Path, Path],
) -> None:
    """Guard: this store's lines, and those of this store at the path it had before a move
    (its snapshot of the mark's number was taken when the mark says, as RC2's note), are
    printed as they were; a mark whose snapshot this store took at another time is not."""
    repo, _a, b = two
    r = find_repo(str(repo))
    with Store(b) as store:
        (three,) = [x for x in store.snapshots() if x.id == 3]
    line = "git-snapshot: 1 file was deleted at 12:00; restore with: git snapshot restore 3 x"
    moved = str(repo.parent / "the-store-before-a-move")
    lossrecord.hold(r, [line.replace("12:00", "12:01")], store=os.fspath(b))
    lossrecord.hold(r, [line.replace("12:00", "12:02")], moved, (3, three.created))
    lossrecord.hold(r, [line.replace("12:00", "12:03")], moved, (3, three.created - 60))
    said = [ln for ln in gs(repo, "list").err.splitlines() if ln.startswith(lossrecord.EARLIER)]
    assert said[0].endswith("12:01; restore with: git snapshot restore 3 x"), said
    assert said[1].endswith("12:02; restore with: git snapshot restore 3 x"), said
    named = f"12:03; restore with: GIT_SNAPSHOT_STORE={moved} git snapshot restore --this-store 3 x"
    assert said[2].endswith(named), said
