"""Restoring a PATH below folders (restore ID dir/file) opens its parent folders: a read-only
one (mode 555, a folder the user locked) was made writable to write into and left so, with
no word in the report; a missing one was made with u+rwx and today's mtime, not the mode
and mtime the snapshot holds for it. The parents the restore passes through end as they
were (or, made by it, as the snapshot has them)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

from clihelpers import git
from clihelpers import gs


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def _locked_folder(repo: Path) -> Path:
    ro = repo / "ro" / "deep"
    ro.mkdir(parents=True)
    (ro / "a").write_text("a\n")
    (ro / "b").write_text("b\n")
    ro.chmod(0o555)
    (repo / "ro").chmod(0o550)
    gs(repo, "-m", "locked")  # snapshot 1
    return ro


def test_restoring_a_file_below_a_read_only_folder_leaves_the_folder_read_only(
    repo: Path,
) -> None:
    ro = _locked_folder(repo)
    ro.chmod(0o755)
    (ro / "a").unlink()
    ro.chmod(0o555)
    gs(repo, "restore", "1", "ro/deep/a")
    assert (ro / "a").read_text() == "a\n"
    assert _mode(ro) == 0o555 and _mode(repo / "ro") == 0o550


def test_a_restore_that_keeps_a_path_below_a_read_only_folder_leaves_it_read_only(
    repo: Path,
) -> None:
    ro = _locked_folder(repo)
    git(repo, "config", "snapshot.exclude", "mine")
    ro.chmod(0o755)
    (ro / "a").unlink()
    (ro / "a").mkdir()  # holding what no snapshot may hold: the restore keeps it
    (ro / "a" / "mine").write_text("mine\n")
    (ro / "a").chmod(0o500)
    ro.chmod(0o555)
    ran = gs(repo, "restore", "1", "ro/deep/a", "ro/deep/b")
    assert "kept" in ran.out, ran.out
    assert (ro / "a" / "mine").read_text() == "mine\n"
    assert _mode(ro / "a") == 0o500  # emptied as far as it could be: its mode as it was
    assert _mode(ro) == 0o555 and _mode(repo / "ro") == 0o550


def test_parents_a_restore_makes_get_the_snapshots_mode_and_mtime(
    repo: Path, tmp_path: Path
) -> None:
    ro = _locked_folder(repo)
    ro.chmod(0o755)
    os.utime(ro, ns=(1_600_000_000_000_000_000, 1_600_000_000_000_000_000))
    ro.chmod(0o555)
    gs(repo, "-m", "old mtime")  # snapshot 2
    out = tmp_path / "out"
    gs(repo, "restore", "2", "ro/deep/a", "ro/deep/b", "--to", str(out))
    assert (out / "ro" / "deep" / "b").read_text() == "b\n"
    assert _mode(out / "ro") == 0o550 and _mode(out / "ro" / "deep") == 0o555
    assert (out / "ro" / "deep").stat().st_mtime_ns == 1_600_000_000_000_000_000


def test_many_named_paths_in_new_folders_need_no_descriptor_each(
    repo: Path, tmp_path: Path
) -> None:
    """The parents to finish are reopened at the end, not held open: a restore (an undo) of
    many files, each in a folder of its own, must not run out of file descriptors."""
    names = [f"d{i}/f" for i in range(150)]
    for name in names:
        (repo / name).parent.mkdir()
        (repo / name).write_text(name)
    gs(repo)  # snapshot 1
    out = tmp_path / "out"
    limit = "import resource; resource.setrlimit(resource.RLIMIT_NOFILE, (100, 100))"
    code = f"{limit}; from git_snapshot.cli import main; exit(main())"
    res = subprocess.run(
        [sys.executable, "-c", code, "restore", "1", *names, "--to", str(out)],
        cwd=repo,
        capture_output=True,
        check=False,
        timeout=300,
    )
    assert res.returncode == 0, res.stderr
    assert all((out / name).read_text() == name for name in names)
