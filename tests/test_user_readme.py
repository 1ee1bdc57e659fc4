"""What the README shows a newcomer first is what they get: its opening example (`git merge`
over an ignored `.env`, then the printed restore command) played for real with the hooks of
`git snapshot install`, and each git-snapshot line compared with the README's, numbers and
sizes aside."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from clihelpers import VENV_BIN
from clihelpers import git
from hookhelpers import commit
from hookhelpers import install
from hookhelpers import put_venv_on_path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"


def _normal(line: str) -> str:
    """A line with its sizes and numbers as placeholders (they differ from run to run)."""
    line = re.sub(r"\b\d+(\.\d+)? (B|KiB|MiB|GiB)\b", "SIZE", line)
    return re.sub(r"\d+", "N", line)


def _example() -> list[tuple[str, list[str]]]:
    """The README's first example block: each `$ command` with the lines shown after it."""
    m = re.search(r"```\n(\$ git merge .*?)```", README.read_text(), re.S)
    assert m, "the README has no opening example"
    steps: list[tuple[str, list[str]]] = []
    for line in m.group(1).splitlines():
        if line.startswith("$ "):
            steps.append((line[2:], []))
        else:
            steps[-1][1].append(line)
    return steps


def test_the_readmes_opening_example_is_what_a_user_sees(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    put_venv_on_path(monkeypatch)
    commit(repo, ".gitignore", b".env\n")
    git(repo, "checkout", "-q", "-b", "feature")
    commit(repo, ".env", b"API_KEY=from the branch\n", force=True)
    git(repo, "checkout", "-q", "main")
    install(repo)
    (repo / ".env").write_bytes(b"API_KEY=mine, only here\n")
    steps = _example()
    assert [cmd.split()[:3] for cmd, _ in steps] == [
        ["git", "merge", "feature"],
        ["git", "snapshot", "restore"],
    ]
    # the merge: git's own lines aside, git-snapshot's are the README's
    merge = git(repo, *steps[0][0].split()[1:])
    said = [ln for ln in (merge.out + merge.err).splitlines() if ln.startswith("git-snapshot:")]
    assert [_normal(ln) for ln in said] == [_normal(ln) for ln in steps[0][1]], said
    # the restore: the command the report printed, pasted as printed, says what the README says
    (printed,) = re.findall(r"restore with: (git snapshot restore [^)]*)\)", said[-1])
    assert _normal(printed) == _normal(steps[1][0])
    res = subprocess.run(["sh", "-c", printed], cwd=repo, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    shown = [ln for ln in (res.stdout + res.stderr).splitlines() if ln.strip()]
    assert [_normal(ln) for ln in shown] == [_normal(ln) for ln in steps[1][1]], shown
    assert (repo / ".env").read_bytes() == b"API_KEY=mine, only here\n"


def _quick_start_install() -> str:
    """The README's quick-start command 1, as one line."""
    m = re.search(r"# 1\. install[^\n]*\n(python3 -m venv [^\n]+)\n", README.read_text())
    assert m, "the README has no quick-start command 1"
    return m.group(1)


@pytest.mark.skipif(shutil.which("man") is None, reason="no man here")
def test_after_the_quick_start_git_snapshot_help_shows_the_man_page(
    repo: Path, tmp_path: Path
) -> None:
    """The quick start linked the program into ~/.local/bin but not its page: `git snapshot
    --help` (git runs `man git-snapshot`) said 'No manual entry for git-snapshot'. Played
    after its venv and pip steps (a venv laid out as pip lays it out: bin/, share/man/man1)."""
    home = tmp_path / "home"
    venv = home / ".git-snapshot"
    (venv / "bin").mkdir(parents=True)
    (venv / "share" / "man" / "man1").mkdir(parents=True)
    (venv / "bin" / "git-snapshot").symlink_to(VENV_BIN / "git-snapshot")
    shutil.copy(ROOT / "man" / "man1" / "git-snapshot.1", venv / "share" / "man" / "man1")
    steps = _quick_start_install().split(" && ")
    assert steps[0].startswith("python3 -m venv ~/.git-snapshot") and "/pip install " in steps[1]
    env = {k: v for k, v in os.environ.items() if k not in ("MANPATH", "PAGER", "GIT_PAGER")}
    env.update(HOME=str(home), MANPAGER="cat", PATH="/usr/local/bin:/usr/bin:/bin")
    ran = subprocess.run(
        ["sh", "-c", " && ".join([*steps[2:], "git snapshot --help"])],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
    )
    assert ran.returncode == 0 and "GIT-SNAPSHOT(1)" in ran.stdout, ran.stderr
