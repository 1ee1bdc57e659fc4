"""RED39 C1: a name starting with ``-`` was printed bare by show, diff, find, log and
restore's own create/update/delete lines; pasted into a command it became an option: a file
named ``--delete``, pasted as ``git snapshot restore 1 --delete``, ran a whole-tree restore
that deleted the user's unsaved files. Every listing now prints such a name as ``./--delete``
(as loss reports and hints already did), so that, pasted, it reaches its file; ``--json``
gives the name as it is (data, not a shell word).

Real git, the plain hooks installed as a user installs them; each printed name is pasted
into sh as printed.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from clihelpers import Ran
from clihelpers import gs
from hookhelpers import install
from hookhelpers import put_venv_on_path
from hookhelpers import write

NAMES = ("--delete", "-rf")
UNSAVED = b"new work, in no snapshot\n"


@pytest.fixture
def dashed(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Snapshot 1 holds --delete and -rf; both deleted since, notes.txt written (unsaved)."""
    put_venv_on_path(monkeypatch)  # the printed names are pasted into sh
    install(repo)
    for name in NAMES:
        write(repo / name, f"precious {name}\n".encode())
    gs(repo, "-m", "before")
    for name in NAMES:
        (repo / name).unlink()
    write(repo / "notes.txt", UNSAVED)
    return repo


def _sh(cwd: Path, cmd: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["sh", "-c", cmd], cwd=cwd, capture_output=True, text=True, timeout=120)


def _named(out: str, name: str) -> str:
    """The word of *out* that names *name* (as it is, or as ./NAME)."""
    (word,) = [w for w in out.split() if w in (name, "./" + name)]
    return word


def _listings(repo: Path, name: str) -> dict[str, str]:
    """How each listing prints *name*."""
    return {
        "show": _named(gs(repo, "show", "1").out, name),
        "diff": _named(gs(repo, "diff", "1").out, name),
        "find": _named(gs(repo, "find", "*" + name.lstrip("-")).out, name),
    }


@pytest.mark.parametrize("name", NAMES)
def test_listed_name_pasted_reaches_its_file(dashed: Path, name: str) -> None:
    shown = _listings(dashed, name)
    assert set(shown.values()) == {"./" + name}, shown
    ran = _sh(dashed, f"git snapshot restore 1 {shown['show']}")
    assert ran.returncode == 0, ran
    assert (dashed / name).read_bytes() == f"precious {name}\n".encode()
    assert (dashed / "notes.txt").read_bytes() == UNSAVED, ran  # not a whole --delete restore
    assert f"create ./{name}" in ran.stdout.splitlines(), ran  # restore's own line too


@pytest.mark.parametrize("name", NAMES)
def test_cat_and_log_take_the_printed_name(dashed: Path, name: str) -> None:
    word = "./" + name
    cat = _sh(dashed, f"git snapshot cat 1 {word}")
    assert cat.returncode == 0 and cat.stdout == f"precious {name}\n", cat
    log = _sh(dashed, f"git snapshot log {word}")
    assert log.returncode == 0 and "1" in log.stdout, log


def test_json_gives_the_name_as_it_is(dashed: Path) -> None:
    listed = json.loads(gs(dashed, "show", "1", "--json").out)
    paths = {e["path"] for e in listed["entries"]}
    assert set(NAMES) <= paths, paths


def test_restore_lines_of_a_whole_restore(dashed: Path) -> None:
    ran: Ran = gs(dashed, "restore", "1", "--dry-run")
    for name in NAMES:
        assert any(ln.endswith(" ./" + name) for ln in ran.out.splitlines()), ran.out
