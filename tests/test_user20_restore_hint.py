"""``git snapshot restore .env``, the ID forgotten: the first word is read as the ID. It said
"bad snapshot id '.env': use a number from 'git snapshot list', latest, ..." and nothing of
the path; now it names the command that restores the path, which works pasted."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
from clihelpers import gs
from clihelpers import run
from hookhelpers import put_venv_on_path


@pytest.fixture(autouse=True)
def _path(monkeypatch: pytest.MonkeyPatch) -> None:
    put_venv_on_path(monkeypatch)


def _hint(line: str) -> list[str]:
    assert "is no snapshot ID (the ID comes first, then the paths)" in line, line
    return shlex.split(line.split(": ", 2)[2])


def test_a_path_in_the_ids_place_names_the_command_that_restores_it(repo: Path) -> None:
    (repo / "my notes.txt").write_bytes(b"kept\n")
    (repo / ".env").write_bytes(b"SECRET=1\n")
    gs(repo, "-m", "both")
    (repo / "my notes.txt").unlink()
    (repo / ".env").write_bytes(b"SECRET=lost\n")
    one = gs(repo, "restore", ".env", rc=1)
    assert _hint(one.err.strip()) == ["git", "snapshot", "restore", "--newest", ".env"], one.err
    two = gs(repo, "restore", "my notes.txt", ".env", rc=1)
    cmd = _hint(two.err.strip())
    assert cmd[3:] == ["--newest", "my notes.txt", ".env"], two.err
    run(repo, *cmd)
    assert (repo / "my notes.txt").read_bytes() == b"kept\n"
    assert (repo / ".env").read_bytes() == b"SECRET=1\n"


def test_a_mistyped_id_is_still_named_as_an_id(repo: Path) -> None:
    # in no ID's form: a usage error (RED32); a date is read once there are snapshots (none yet)
    for word, rc in (("latest~x", 2), ("@{1.huor.ago}", 1), ("12a", 2)):
        ran = gs(repo, "restore", word, "a.txt", rc=rc)
        assert "is no snapshot ID" not in ran.err, ran.err


@pytest.mark.parametrize("sub", ["", "sub"])
def test_a_path_the_snapshot_lacks_names_the_log_that_finds_it(repo: Path, sub: str) -> None:
    """It said "see: git snapshot show N", every entry of a snapshot that lacks the path."""
    (repo / "sub").mkdir()
    (repo / "sub" / "gone.txt").write_bytes(b"v1\n")
    first = gs(repo, "--json")
    (repo / "sub" / "gone.txt").unlink()
    gs(repo, "-m", "without it")
    typed = "gone.txt" if sub else "sub/gone.txt"
    ran = gs(repo / sub, "restore", "latest", typed, rc=1)
    assert ran.err.strip().endswith(
        f"is not in snapshot 2; see the snapshots holding it with: git snapshot log {typed}"
    ), ran.err
    log = run(repo / sub, *shlex.split(ran.err.rsplit(": ", 1)[1]))
    assert " appeared " in log.out and first.out and log.out.lstrip().startswith("ID"), log.out
