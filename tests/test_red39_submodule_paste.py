"""A submodule's hook run by the superproject's ``git submodule update`` printed a restore
command relative to the submodule and numbered in the submodule's history, with no ``-C``:
pasted in the superproject, where the user typed the command, it restored the superproject's
file of that name (RED39 B3).

The hook took the user's directory for "where the report is read" only when it lay in the
hook's worktree or when the user's git command had ``-C``/``--git-dir``; the superproject's
command moves into the submodule by itself.
"""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from clihelpers import run
from hookhelpers import commit
from hookhelpers import install
from hookhelpers import put_venv_on_path

ALLOW = ("-c", "protocol.file.allow=always")


@pytest.fixture
def superproject(repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """*repo* at p1 (submodule sub at s1, its .env ignored and mine), p2 (sub at s2, which
    tracks .env) on a tag; hooks in both, as README says."""
    put_venv_on_path(monkeypatch)
    lib = tmp_path / "lib"
    lib.mkdir()
    git(lib, "init", "-q")
    commit(lib, ".gitignore", b".env\n")
    git(lib, "tag", "s1")
    commit(lib, ".env", b"SUB_KEY=from-upstream\n", force=True)
    git(lib, "tag", "s2")
    commit(repo, ".gitignore", b".env\n")
    git(repo, *ALLOW, "submodule", "-q", "add", str(lib), "sub")
    git(repo / "sub", "checkout", "-q", "s2")
    git(repo, "add", "sub")
    git(repo, "commit", "-qm", "p2")
    git(repo, "tag", "p2")
    git(repo / "sub", "checkout", "-q", "s1")
    git(repo, "add", "sub")
    git(repo, "commit", "-qm", "p1")
    install(repo)
    git(repo, "submodule", "foreach", "--quiet", "git snapshot install")
    (repo / ".env").write_bytes(b"SUPER_KEY=old\n")
    gs(repo, "-m", "superproject 1")
    (repo / ".env").write_bytes(b"SUPER_KEY=new\n")
    (repo / "sub" / ".env").write_bytes(b"SUB_KEY=mine\n")
    gs(repo / "sub", "-m", "submodule 1")
    git(repo, "checkout", "-q", "p2")
    return repo


def _restore_cmd(err: str) -> str:
    (line,) = [ln for ln in err.splitlines() if "restore with: " in ln]
    return line.split("restore with: ", 1)[1].removesuffix(")")


def test_the_submodule_update_report_pasted_in_the_superproject_restores_the_submodule(
    superproject: Path,
) -> None:
    ran = subprocess.run(
        ["sh", "-c", "git submodule update"],
        cwd=superproject,
        capture_output=True,
        text=True,
        check=True,
    )
    assert (superproject / "sub" / ".env").read_bytes() == b"SUB_KEY=from-upstream\n"
    cmd = _restore_cmd(ran.stderr)
    assert cmd.startswith(f"git snapshot -C {superproject / 'sub'} restore "), cmd
    run(superproject, *shlex.split(cmd))  # pasted where the user typed the command
    assert (superproject / "sub" / ".env").read_bytes() == b"SUB_KEY=mine\n"
    assert (superproject / ".env").read_bytes() == b"SUPER_KEY=new\n"


def test_a_report_read_inside_the_submodule_keeps_its_relative_command(
    superproject: Path,
) -> None:
    """The user in the submodule's folder: the command needs no -C there."""
    ran = subprocess.run(
        ["sh", "-c", "git -C .. submodule update"],
        cwd=superproject / "sub",
        capture_output=True,
        text=True,
        check=True,
    )
    cmd = _restore_cmd(ran.stderr)
    assert cmd.startswith("git snapshot restore ") and cmd.endswith(" .env"), cmd
    run(superproject / "sub", *shlex.split(cmd))
    assert (superproject / "sub" / ".env").read_bytes() == b"SUB_KEY=mine\n"
