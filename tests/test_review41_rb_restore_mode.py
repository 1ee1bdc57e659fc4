"""Session 41 review RB of fixB (35bef08, 78f511e: the restore guard treats a mode change as
a change), and the other places a restore gives a folder its mode back.

1. A restore of a path below a read-only folder opens the folder up (u+rwx) to write into
   it. When the same restore also names that folder, or a folder holding it (``restore 1
   ro/x ro``, ``restore 1 a/ro/x a``), the folder was then looked at again with the mode
   the restore itself gave it: the guard found a mode the pre-restore snapshot lacks and
   said ``NOT WRITTEN ro: changed while the restore ran``, exit 1, and left ro writable,
   though nothing but the restore had touched it. Named the other way round (``restore 1
   ro ro/x``), the folder got its mode first, then the path below it opened it up again
   and nothing gave its mode back (before 35bef08 too): exit 0, ro left 755 where
   snapshot 1 holds 555. A path below a named folder is the named folder's: restored with
   it, once.
2. restore --delete opens a folder up to empty it, and gives it its mode back when it
   stays: that undid a chmod another made meanwhile (in no snapshot), as 78f511e fixed for
   a named path's parent; and one made not empty after it was emptied (rmdir: ENOTEMPTY)
   was left opened up, what went of it in no line of the report.
3. The mode the restore left a folder with, looked at before its own is given back, is the
   one the kernel gave it: opened up (u+rwx) by a user not in its group, a set-gid folder
   loses that bit. 78f511e compared with the mode asked for, so such a read-only parent of
   a named path was left writable.
"""

from __future__ import annotations

import os
import stat
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from clihelpers import VENV_BIN
from clihelpers import Ran
from clihelpers import gs
from clihelpers import run
from hookhelpers import after_pre_restore
from hookhelpers import install
from ownerhelpers import needs_root

from git_snapshot.cli import main
from git_snapshot.store import restorer


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


@pytest.mark.parametrize(
    ("names", "folder"),
    [
        (["ro/x", "ro"], "ro"),
        (["ro", "ro/x"], "ro"),
        (["a/ro/x", "a"], "a/ro"),
        (["a", "a/ro/x"], "a/ro"),
    ],
)
def test_a_read_only_folder_named_with_a_path_below_it_gets_its_own_mode(
    repo: Path, names: list[str], folder: str
) -> None:
    install(repo)
    ro = repo / folder
    ro.mkdir(parents=True)
    (ro / "x").write_text("x old\n")
    (ro / "y").write_text("y old\n")
    ro.chmod(0o555)
    gs(repo, "create")  # 1
    (ro / "x").write_text("x edit\n")
    (ro / "y").write_text("y edit\n")
    ran = gs(repo, "restore", "1", *names)
    said = ran.out + ran.err
    assert "NOT WRITTEN" not in said
    assert (ro / "x").read_text() == "x old\n"
    assert (ro / "y").read_text() == "y old\n"
    assert _mode(ro) == 0o555, said


def _junk(repo: Path) -> Path:
    """Snapshot 1 of a worktree holding ``keep``; then a read-only folder junk/ (555) that
    snapshot 1 lacks, holding junk/a: ``restore --delete 1`` removes it."""
    install(repo)
    (repo / "keep").write_text("keep\n")
    gs(repo, "create")  # 1
    junk = repo / "junk"
    junk.mkdir()
    (junk / "a").write_text("a\n")
    junk.chmod(0o555)
    return junk


def _after_empty(monkeypatch: pytest.MonkeyPatch, then: Callable[[Path], object]) -> None:
    """Restorer._empty works as ever; *then* runs once it has emptied junk/ (opened up)."""
    real = restorer.Restorer._empty

    def empty(self: restorer.Restorer, fd: int, rel: bytes, gone: list[bytes]) -> bool:
        stayed = real(self, fd, rel, gone)
        if rel == b"junk":
            then(Path(str(self.target)) / "junk")
        return stayed

    monkeypatch.setattr(restorer.Restorer, "_empty", empty)


def _restore(repo: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    rc = main(["-C", str(repo), "restore", *args])
    out = capsys.readouterr()
    return rc, out.out + out.err


def test_delete_keeps_the_mode_another_gives_a_folder_that_stays_as_it_is_emptied(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """junk/new, made after the pre-restore snapshot, keeps junk/ there; a tool's chmod of
    junk/ (700) while the restore empties it stays: giving junk/ its 555 back took it, and
    700 is in no snapshot (as 78f511e does for a named path's parent)."""
    junk = _junk(repo)
    after_pre_restore(monkeypatch, lambda: (junk / "new").write_text("new\n"))
    _after_empty(monkeypatch, lambda j: subprocess.run(["chmod", "700", str(j)], check=True))
    rc, said = _restore(repo, capsys, "--delete", "1")
    assert rc == 1, said
    assert "NOT WRITTEN junk/new: created while the restore ran" in said
    assert (junk / "new").read_text() == "new\n"
    assert not (junk / "a").exists()
    assert _mode(junk) == 0o700, said


def test_a_folder_made_not_empty_as_delete_removes_it_gets_its_mode_back_and_names_what_went(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A file made in junk/ after the restore emptied it (junk/a deleted) and before its
    rmdir: junk/ stays, named NOT WRITTEN. It was left 755 (the restore's u+rwx to empty it:
    "as they were", said the restore) and junk/a, deleted, was in no line of the report."""
    junk = _junk(repo)
    _after_empty(monkeypatch, lambda j: (j / "late").write_text("late\n"))
    rc, said = _restore(repo, capsys, "--delete", "1")
    assert rc == 1, said
    assert "NOT WRITTEN junk: changed while the restore ran" in said
    assert (junk / "late").read_text() == "late\n"
    assert not (junk / "a").exists()
    assert "delete junk/a" in said
    assert _mode(junk) == 0o555, said


# root without CAP_FSETID: its chmod of a set-gid folder of a group it is not in clears the
# set-gid bit, as a user's does
_NO_FSETID = ["setpriv", "--bounding-set=-fsetid"]
_GROUP = 4321  # a group root is not in


def _as_a_user(repo: Path, *args: str) -> Ran:
    path = f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"
    env = {**os.environ, "PATH": path}
    return run(repo, *_NO_FSETID, "git", "snapshot", *args, rc=None, env=env)


@needs_root
def test_a_read_only_set_gid_parent_of_a_group_not_mine_gets_its_mode_back(repo: Path) -> None:
    """sg/ (2555, its group one the user is not in): ``restore 1 sg/x`` opens it up
    (u+rwx), and the kernel clears its set-gid bit then (755). 78f511e gave its mode back
    only while it was 2755 (the mode asked for, not the one it had), so sg/ was left
    writable (755), in no snapshot, with no word of it."""
    install(repo)
    sg = repo / "sg"
    sg.mkdir()
    (sg / "x").write_text("x old\n")
    os.chown(sg, -1, _GROUP)
    sg.chmod(0o2555)
    gs(repo, "create")  # 1
    (sg / "x").write_text("x edit\n")
    ran = _as_a_user(repo, "restore", "1", "sg/x")
    assert ran.rc == 0, ran.out + ran.err
    assert (sg / "x").read_text() == "x old\n"
    assert _mode(sg) == 0o555, ran.out + ran.err


@needs_root
def test_delete_gives_a_set_gid_folder_of_a_group_not_mine_that_stays_its_mode_back(
    repo: Path,
) -> None:
    """junk/ (2555, its group one the user is not in), not in snapshot 1, holds junk/a
    and junk/.git, which restore --delete never removes. junk/ is opened up to be emptied
    (u+rwx: the kernel clears set-gid), stays, and gets 555 back."""
    install(repo)
    (repo / "keep").write_text("keep\n")
    gs(repo, "create")  # 1
    junk = repo / "junk"
    junk.mkdir()
    (junk / "a").write_text("a\n")
    (junk / ".git").write_text("gitdir: /nowhere\n")
    os.chown(junk, -1, _GROUP)
    junk.chmod(0o2555)
    ran = _as_a_user(repo, "restore", "--delete", "1")
    said = ran.out + ran.err
    assert (junk / ".git").exists(), said
    assert not (junk / "a").exists(), said
    assert _mode(junk) == 0o555, said
