"""Red team (session 10): a loss report naming more than RESTORE_AT_MOST paths gave, as its
restore command, their top-level folders. Restoring a folder writes back every file of it
the snapshot holds: the tracked files the git operation changed on purpose (not lost: git
holds them) were reverted too, and the report's command did more than undo the loss. The
command now names the outermost folders in which every file that differs from the snapshot
was lost, and the other lost paths one by one: pasted, it restores every lost file and
nothing else."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from clihelpers import VENV_BIN
from clihelpers import git
from clihelpers import gs

N = 120  # lost files beside a tracked file the checkout changed (RESTORE_AT_MOST is 100)


def _sh(cwd: Path, line: str, shell: str) -> None:
    env = {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    res = subprocess.run(
        [shell, "-c", line], cwd=cwd, env=env, capture_output=True, check=False, timeout=300
    )
    assert res.returncode == 0, (line, res.stdout, res.stderr)


def _setup(repo: Path) -> None:
    """Branch other tracks build/README (another version than main's), build/g*, build/a/f*;
    main has build/ ignored, and the user's own build/g* and build/a/f* there."""
    (repo / ".gitignore").write_text("build/\n")
    (repo / "build").mkdir()
    (repo / "build" / "README").write_text("main's readme\n")
    git(repo, "add", ".gitignore")
    git(repo, "add", "-f", "build/README")
    git(repo, "commit", "-q", "-m", "main")
    git(repo, "checkout", "-q", "-b", "other")
    (repo / "build" / "README").write_text("other's readme\n")
    (repo / "build" / "a").mkdir()
    for i in range(N):
        (repo / "build" / f"g{i:03}").write_text(f"other g{i}\n")
        (repo / "build" / "a" / f"f{i:03}").write_text(f"other f{i}\n")
    git(repo, "add", "-f", "build")
    git(repo, "commit", "-q", "-m", "other")
    git(repo, "checkout", "-q", "main")
    (repo / "build" / "a").mkdir()
    for i in range(N):  # the user's ignored files, where other tracks files
        (repo / "build" / f"g{i:03}").write_text(f"mine g{i}\n")
        (repo / "build" / "a" / f"f{i:03}").write_text(f"mine f{i}\n")


def test_the_restore_command_of_a_long_report_restores_the_losses_and_nothing_else(
    repo: Path,
) -> None:
    _setup(repo)
    ran = gs(repo, "run", "--", "git", "checkout", "-q", "other")
    (line,) = [ln for ln in ran.said if "restore with: " in ln]
    command = line.split("restore with: ", 1)[1].rsplit(")", 1)[0]
    assert "build/README" not in command, command
    for shell in ("sh", "bash"):
        for i in range(N):
            (repo / "build" / f"g{i:03}").write_text(f"other g{i}\n")
        _sh(repo, command, shell)
        assert (repo / "build" / "README").read_text() == "other's readme\n", shell
        for i in range(N):
            assert (repo / "build" / f"g{i:03}").read_text() == f"mine g{i}\n"
            assert (repo / "build" / "a" / f"f{i:03}").read_text() == f"mine f{i}\n"
    # undo restores what the report's command names
    git(repo, "checkout", "-q", "-f", "other")
    gs(repo, "undo")
    assert (repo / "build" / "README").read_text() == "other's readme\n"
    assert (repo / "build" / "g000").read_text() == "mine g0\n"


def test_a_report_without_restore_paths_names_every_lost_path() -> None:
    """Report.covering's fallback (an entry with no restore list) gave top folders too."""
    from git_snapshot import losses
    from git_snapshot import lossreport

    lost = [losses.Loss(f"build/g{i:03}".encode(), "ignored", "deleted") for i in range(N)]
    report = lossreport.Report("git checkout", 1, 0.0, True, lost)
    assert report.covering() == [x.path for x in lost]
