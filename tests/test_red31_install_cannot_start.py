"""RED31 E1: a git-snapshot that is still there but cannot start (its virtualenv's Python is
gone, as after a Python upgrade) never blocks git. Every hook says in one line what is broken
and how to get out (reinstall, or the commands that remove the hook), then git goes on; the
user's own hook still runs. Real git, a real virtualenv, hooks put in place by the
``git snapshot install`` of that virtualenv, as the README's quick start has a user do."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import run

from git_snapshot import hookfiles

SRC = Path(__file__).resolve().parent.parent / "src"


def _venv(where: Path) -> Path:
    """A virtualenv of its own for git-snapshot (this checkout's code, this venv's libraries),
    with a console script as pip writes it; returns its bin/git-snapshot."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(where)], check=True)
    py = where / "bin" / "python"
    purelib = subprocess.run(
        [py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    import sysconfig

    ours = sysconfig.get_paths()["purelib"]
    Path(purelib, "gs.pth").write_text(f"{SRC}\n{ours}\n")
    exe = where / "bin" / "git-snapshot"
    exe.write_text(
        f"#!{py}\nimport sys\nfrom git_snapshot.hookmain import main\nsys.exit(main())\n"
    )
    exe.chmod(0o755)
    return exe


def _diverged(repo: Path) -> None:
    git(repo, "switch", "-q", "-c", "feature")
    (repo / "f.txt").write_text("feature\n")
    git(repo, "add", "f.txt")
    git(repo, "commit", "-q", "-m", "feature")
    git(repo, "switch", "-q", "main")
    git(repo, "commit", "-q", "--allow-empty", "-m", "main")


def _user_hook(repo: Path, name: str, log: Path) -> None:
    path = repo / ".git" / "hooks" / name
    path.write_text(f'#!/bin/sh\necho "{name} $*" >> "{log}"\n')
    path.chmod(0o755)


def _its_lines(stderr: str) -> list[str]:
    return [ln for ln in stderr.splitlines() if "git-snapshot" in ln]


@pytest.fixture
def broken(repo: Path, tmp_path: Path) -> tuple[Path, Path, Path]:
    """(repo, exe, log): installed by a virtualenv whose Python is then removed."""
    exe = _venv(tmp_path / "venv")
    log = tmp_path / "user.log"
    _user_hook(repo, "post-merge", log)
    _user_hook(repo, "pre-rebase", log)
    ran = run(repo, str(exe), "install")
    assert "reference-transaction: installed" in ran.out, ran
    assert f"exe={exe} " in (repo / ".git" / "hooks" / "pre-rebase").read_text()
    _diverged(repo)
    for p in (tmp_path / "venv" / "bin").glob("python*"):
        p.unlink()  # the interpreter goes; bin/git-snapshot stays
    assert exe.is_file() and os.access(exe, os.X_OK)
    return repo, exe, log


def _git(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True)


def _check_line(line: str, name: str, exe: Path) -> None:
    assert line.startswith(
        f"git-snapshot: {exe} cannot start (its Python {exe.parent}/python is gone)"
    ), line
    assert f"so the {name} hook took no snapshot" in line, line
    assert (
        "reinstall git-snapshot and run git snapshot install again, or to remove this hook: "
        in line
    ), line
    assert "not found" not in line


def test_merge_and_rebase_go_on_with_one_line_each(broken: tuple[Path, Path, Path]) -> None:
    repo, exe, log = broken
    res = _git(repo, "merge", "--no-edit", "feature")
    assert res.returncode == 0, res.stderr
    assert (repo / "f.txt").exists()
    lines = _its_lines(res.stderr)
    assert [re.search(r"so the (\S+) hook", ln)[1] for ln in lines] == [  # type: ignore[index]
        "reference-transaction",
        "pre-merge-commit",
        "post-merge",
    ], res.stderr
    for line, name in zip(lines, ("reference-transaction", "pre-merge-commit", "post-merge")):
        _check_line(line, name, exe)
    assert "not found" not in res.stderr  # the shell's own message about an existing file
    assert log.read_text() == "post-merge 0\n"  # the user's hook ran

    git(repo, "reset", "-q", "--hard", "HEAD~1")
    res = _git(repo, "rebase", "feature")
    assert res.returncode == 0, res.stderr
    assert git(repo, "merge-base", "--is-ancestor", "feature", "HEAD").rc == 0
    (line,) = [ln for ln in _its_lines(res.stderr) if "pre-rebase" in ln]
    _check_line(line, "pre-rebase", exe)
    assert "pre-rebase feature" in log.read_text()


def test_the_printed_commands_remove_the_hooks(
    broken: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    repo, _exe, _log = broken
    res = _git(repo, "merge", "--no-edit", "feature")
    assert res.returncode == 0, res.stderr
    for line in _its_lines(res.stderr):
        cmd = line.split(" to remove this hook: ")[1]
        ran = subprocess.run(["sh", "-c", cmd], cwd=tmp_path, capture_output=True, text=True)
        assert ran.returncode == 0, (cmd, ran.stderr)
    hooks = repo / ".git" / "hooks"
    assert not hookfiles.is_our_shim(str(hooks / "post-merge"))
    assert (hooks / "post-merge").read_text().startswith("#!/bin/sh\necho")


def test_the_fast_start_handing_over_to_a_console_script_that_cannot_start(
    repo: Path, tmp_path: Path
) -> None:
    """The shim's Python is there but hands over (another bytecode tag) to a git-snapshot
    whose own Python is gone: no traceback, no blocked merge."""
    exe = _venv(tmp_path / "venv")
    run(repo, str(exe), "install")
    _diverged(repo)
    shim = repo / ".git" / "hooks" / "reference-transaction"
    text = shim.read_text()
    line = re.search(r"(?m)^exe=.*$", text)
    assert line is not None and " py=" in line[0]
    new = re.sub(r" py=\S*", f" py={sys.executable}", line[0])
    new = re.sub(r" tag=\S*", " tag=cpython-27", new)
    shim.write_text(text.replace(line[0], new))
    for p in (tmp_path / "venv" / "bin").glob("python*"):
        p.unlink()
    res = _git(repo, "merge", "--no-edit", "feature")
    assert res.returncode == 0, res.stderr
    assert "Traceback" not in res.stderr
    (first, *_) = _its_lines(res.stderr)
    _check_line(first, "reference-transaction", exe)


def test_doctor_says_it_cannot_start(broken: tuple[Path, Path, Path]) -> None:
    repo, exe, _log = broken
    ran = run(repo, sys.executable, "-m", "git_snapshot", "doctor", rc=1)
    line = [ln for ln in ran.out.splitlines() if ln.startswith("pre-rebase:")]
    assert line == [
        f"pre-rebase: WILL NOT FIRE: its program {exe} cannot start (its Python "
        f"{exe.parent}/python is gone): reinstall git-snapshot and run git snapshot install again"
    ], ran.out


def test_a_python_that_cannot_import_git_snapshot_blocks_nothing(
    repo: Path, tmp_path: Path
) -> None:
    """Its Python is there but git_snapshot is not importable from it (a venv upgraded under
    it to another Python, whose site-packages are empty): the console script's traceback
    aborted every rebase, merge, pull and am. The shim runs it through its own Python with
    the import guarded: "cannot start", one line, and git goes on (RED31 E1, the rest)."""
    exe = _venv(tmp_path / "venv")
    run(repo, str(exe), "install")
    _diverged(repo)
    for name in ("reference-transaction", "pre-merge-commit", "post-merge"):
        shim = repo / ".git" / "hooks" / name
        text = shim.read_text()
        line = re.search(r"(?m)^exe=.*$", text)
        assert line is not None
        shim.write_text(text.replace(line[0], re.sub(r" tag=\S*", " tag=cpython-399", line[0])))
    for pth in (tmp_path / "venv").rglob("gs.pth"):
        pth.unlink()  # git_snapshot gone from that Python's path
    assert _git(repo, "rev-parse", "HEAD").returncode == 0
    direct = subprocess.run([str(exe), "--version"], capture_output=True, text=True)
    assert direct.returncode == 1 and "ModuleNotFoundError" in direct.stderr  # as it was
    res = _git(repo, "merge", "--no-edit", "feature")
    assert res.returncode == 0, res.stderr
    assert (repo / "f.txt").exists()
    assert "Traceback" not in res.stderr, res.stderr
    lines = _its_lines(res.stderr)
    assert lines and all("cannot start" in ln and "to remove this hook: " in ln for ln in lines)
