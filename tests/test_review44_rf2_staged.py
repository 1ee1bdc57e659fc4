"""Review RF2 of fixF2 (red44 F2: `run` saves and names a staged version the command throws
away).

- The "staged versions" snapshot `run` takes before any command while a staged-only version
  exists piled up: one more for every `run -- git status`. The newest such snapshot of the
  worktree that holds exactly these staged versions (paths, modes, blob ids) is named
  again, and no new one is taken; retention keeps it through the run that names it.
- The line named a version git still held at a branch's tip ("threw away" was false):
  `run -- sh -c 'git commit -qm x && git checkout -qf b'` left it committed on main.
- The line's restore and `undo` wrote every staged version of the snapshot into the side
  folder, also those the command left in the index: now only those it threw away.
- run in a superproject saved no staged version of a submodule's index, which a recursing
  reset, `git -C sub reset` or `submodule foreach` threw away (its file's edit was named).
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from clihelpers import Ran
from clihelpers import git
from clihelpers import gs
from hookhelpers import commit
from hookhelpers import hooked_superproject
from hookhelpers import install
from hookhelpers import snaps
from test_red44_staged_lost_run import V1
from test_red44_staged_lost_run import V2
from test_red44_staged_lost_run import stage_v1
from test_red44_staged_lost_run import staged

STAGED = "(staged versions only the index held)"
LINE = re.compile(
    r"git-snapshot: .* threw away 1 staged version that differed from both HEAD and the "
    r"file: f\.txt \(saved in snapshot (\d+); restore with: (git snapshot restore .*)\)$",
    re.M,
)


def _staged_ids(repo: Path) -> list[int]:
    return [s["id"] for s in snaps(repo) if s["message"].endswith(STAGED)]


def _restored(repo: Path, ran: Ran) -> tuple[str, Path]:
    """The snapshot the staged line names, and the folder its own restore command filled."""
    found = LINE.search(ran.err)
    assert found, ran.err
    words = found[2].split()
    gs(repo, *words[2:])
    return found[1], repo / words[-1]


def _own_restore(cwd: Path, ran: Ran, path: str, command: str) -> Path:
    """The folder the restore command of *ran*'s staged line (its file matching *path*, the
    command `git snapshot ` then *command*) fills, run in *cwd*."""
    found = re.search(
        r"threw away 1 staged version that differed from both HEAD and the file: "
        rf"{path} \(saved in snapshot \d+; restore with: (git snapshot {command})\)$",
        ran.err,
        re.M,
    )
    assert found, ran.err
    words = found[1].split()
    gs(cwd, *words[2:])
    return cwd / words[-1]


def test_runs_over_the_same_staged_versions_name_one_snapshot(repo: Path) -> None:
    r = staged(repo)
    gs(r, "run", "--", "git", "status", "--short")
    gs(r, "run", "--", "git", "status", "--short")
    first = _staged_ids(r)
    assert len(first) == 1, snaps(r)
    ran = gs(r, "run", "--", "git", "reset", "--hard")
    assert _staged_ids(r) == first
    sid, folder = _restored(r, ran)
    assert int(sid) == first[0]
    assert (folder / "f.txt").read_bytes() == V1


def test_other_staged_versions_get_a_snapshot_of_their_own(repo: Path) -> None:
    r = staged(repo)
    gs(r, "run", "--", "git", "status", "--short")
    (r / "f.txt").write_bytes(b"v3\n")
    git(r, "add", "f.txt")
    (r / "f.txt").write_bytes(V2)
    ran = gs(r, "run", "--", "git", "reset", "--hard")
    assert len(_staged_ids(r)) == 2
    sid, folder = _restored(r, ran)
    assert int(sid) == _staged_ids(r)[-1]
    assert (folder / "f.txt").read_bytes() == b"v3\n"


def test_the_snapshot_named_again_outlives_the_retention_of_its_run(repo: Path) -> None:
    r = staged(repo)
    git(r, "config", "snapshot.keepLast", "1")
    git(r, "config", "snapshot.keepWithin", "1s")
    gs(r, "run", "--", "git", "status", "--short")
    time.sleep(1.2)  # (older than keepWithin: only the run's own keeping keeps it)
    ran = gs(r, "run", "--", "git", "reset", "--hard")
    _sid, folder = _restored(r, ran)
    assert (folder / "f.txt").read_bytes() == V1


def test_a_version_committed_on_a_branch_the_command_left_is_not_named(repo: Path) -> None:
    r = staged(repo)
    ran = gs(r, "run", "--", "sh", "-c", "git commit -qm x && git checkout -qf b")
    assert git(r, "show", "main:f.txt").out.encode() == V1
    assert "staged version" not in ran.err, ran.err


def test_a_version_another_branch_holds_at_that_path_is_not_named(repo: Path) -> None:
    r = staged(repo)
    git(r, "stash", "-q")
    git(r, "checkout", "-q", "b")
    commit(r, "f.txt", V1, "v1 on b")
    git(r, "checkout", "-q", "main")
    git(r, "stash", "pop", "-q", "--index")
    ran = gs(r, "run", "--", "git", "reset", "--hard")
    assert "staged version" not in ran.err, ran.err


def test_only_the_versions_thrown_away_are_restored_and_undone(repo: Path) -> None:
    """g.txt's staged version, which `restore --staged f.txt` leaves in the index, is in the
    same snapshot: neither the line's command nor undo writes it into the side folder."""
    r = staged(repo)
    (r / "g.txt").write_bytes(b"g1\n")
    git(r, "add", "g.txt")
    (r / "g.txt").write_bytes(b"g2\n")
    ran = gs(r, "run", "--", "git", "restore", "--staged", "--worktree", "f.txt")
    _sid, folder = _restored(r, ran)
    assert sorted(p.name for p in folder.iterdir()) == ["f.txt"]
    assert (folder / "f.txt").read_bytes() == V1
    gs(r, "undo")
    assert (r / "f.txt").read_bytes() == V2
    undone = [d for d in r.parent.iterdir() if d.name.startswith("staged-") and d != folder]
    assert len(undone) == 1, undone
    assert sorted(p.name for p in undone[0].iterdir()) == ["f.txt"]
    assert (undone[0] / "f.txt").read_bytes() == V1
    assert git(r, "diff", "--cached", "--name-only").out.split() == ["g.txt"]


@pytest.mark.parametrize(
    "cmd",
    [
        ["git", "reset", "-q", "--hard", "--recurse-submodules"],
        ["git", "-C", "sub", "reset", "-q"],
        ["git", "submodule", "foreach", "-q", "git read-tree HEAD"],
    ],
    ids=["reset --hard --recurse-submodules", "-C sub reset", "submodule foreach read-tree"],
)
def test_a_submodules_staged_version_thrown_away_from_the_superproject_is_saved(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cmd: list[str]
) -> None:
    """run in the superproject snapshots the submodule's files too (and names sub/a.txt's
    edit): the version only the submodule's index held was in no snapshot, unnamed."""
    commit(repo, "f.txt", b"base\n")
    r = hooked_superproject(repo, tmp_path, monkeypatch, None, b"s1\n")
    stage_v1(r / "sub", "a.txt")
    ran = gs(r, "run", "--", *cmd)
    assert V1 not in git(r / "sub", "ls-files", "-s").out.encode()
    folder = _own_restore(r, ran, r"sub/a\.txt", r"restore .*")
    assert (folder / "sub" / "a.txt").read_bytes() == V1


def test_a_submodules_staged_version_the_command_keeps_is_not_named(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    commit(repo, "f.txt", b"base\n")
    r = hooked_superproject(repo, tmp_path, monkeypatch, None, b"s1\n")
    stage_v1(r / "sub", "a.txt")
    ran = gs(r, "run", "--", "git", "reset", "-q", "--hard")  # (not recursing: sub untouched)
    assert "staged version" not in ran.err, ran.err
    assert len(_staged_ids(r)) == 1


def test_a_version_an_older_stash_entry_holds_is_not_named(repo: Path) -> None:
    """`git stash apply --index` keeps the entry: its index commit holds v1, which
    `git checkout stash@{0}^2 -- f.txt` gives back after the reset."""
    r = staged(repo)
    git(r, "stash", "-q")
    git(r, "stash", "apply", "-q", "--index")
    ran = gs(r, "run", "--", "git", "reset", "-q", "--hard")
    assert "staged version" not in ran.err, ran.err


def test_a_worktree_that_removes_itself_names_its_staged_versions(repo: Path) -> None:
    """run in a linked worktree whose command removes it: the line said its files are in
    snapshot N, and the version only its index held, saved too, went unnamed."""
    commit(repo, "f.txt", b"base\n")
    install(repo)
    wt = repo.parent / "wt2"
    git(repo, "worktree", "add", "-q", str(wt))
    stage_v1(wt)
    ran = gs(wt, "run", "--", "git", "worktree", "remove", "--force", str(wt))
    assert not wt.exists()
    folder = _own_restore(repo, ran, r"\S*f\.txt", r".*")  # (restore --repo WT N --to ABS)
    assert (folder / "f.txt").read_bytes() == V1


def test_a_submodule_git_cannot_read_leaves_the_superprojects_saved(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A submodule whose index git cannot read is said; the superproject's staged version
    is saved and named still (one failure skipped them all)."""
    commit(repo, "f.txt", b"base\n")
    r = hooked_superproject(repo, tmp_path, monkeypatch, None, b"s1\n")
    stage_v1(r)
    index = Path(git(r / "sub", "rev-parse", "--git-path", "index").out.strip())
    (r / "sub" / index if not index.is_absolute() else index).write_bytes(b"garbage\n")
    ran = gs(r, "run", "--", "git", "reset", "-q", "--hard")
    assert "could not save the staged versions only the index of submodule sub" in ran.err
    _sid, folder = _restored(r, ran)
    assert (folder / "f.txt").read_bytes() == V1


NAMES = ["f.txt", "-d.txt", "a\nb.txt", "\udcff.txt"]  # (\udcff: the byte 0xff, not UTF-8)
UNTESTED = [
    ["reset", "-q", "--keep", "HEAD"],
    ["add", "-A"],
    ["commit", "-qam", "x"],
]


@pytest.mark.parametrize("name", NAMES, ids=["plain", "dash", "newline", "non-utf8"])
@pytest.mark.parametrize("cmd", UNTESTED, ids=[" ".join(c[:3]) for c in UNTESTED])
def test_the_other_commands_that_throw_it_away_name_it(
    repo: Path, cmd: list[str], name: str
) -> None:
    """fixF2 found these throw the staged version away too; its tests did not run them, nor
    a hostile name: each is named, and its own command restores the staged bytes."""
    commit(repo, "g.txt", b"base\n")
    install(repo)
    stage_v1(repo, name)
    ran = gs(repo, "run", "--", "git", *cmd)
    folder = _own_restore(repo, ran, r".*", r"restore \d+ --to \S+")
    assert (folder / name).read_bytes() == V1
