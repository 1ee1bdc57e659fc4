"""RED39 C5: in a subfolder, a path pasted from `show` or `diff` (printed from the worktree's
top, as documented) got from `restore` the line that gives it as typed from here ("from here,
its conf/app.env is: ../conf/app.env"), but from `cat` and `log` a dead end (cat named a
`log` command that failed the same way). Now cat and log share restore's check and say it too.

Real git, the plain hooks installed as a user installs them; the path given is pasted into
sh as printed.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from clihelpers import gs
from hookhelpers import install
from hookhelpers import put_venv_on_path
from hookhelpers import write

SECRET = b"secret=1\n"
HINT = "(PATHs are relative to the current directory, as in git); from here, its conf/app.env is: "


@pytest.fixture
def sub(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Snapshot 1 holds conf/app.env, deleted since; returns the folder sub/ of the worktree."""
    put_venv_on_path(monkeypatch)  # the path given is pasted into sh
    install(repo)
    write(repo / "conf" / "app.env", SECRET)
    write(repo / "sub" / "keep", b"k\n")
    gs(repo, "-m", "s")
    (repo / "conf" / "app.env").unlink()
    return repo / "sub"


def _given(err: str) -> str:
    """The path the error line gives, as printed."""
    line = err.strip().splitlines()[-1]
    assert HINT in line, err
    return line.split(HINT, 1)[1]


@pytest.mark.parametrize(("cmd", "then"), [(["cat", "1"], ["cat", "1"]), (["log"], ["log"])])
def test_a_path_from_the_top_is_given_as_typed_here(
    sub: Path, cmd: list[str], then: list[str]
) -> None:
    ran = gs(sub, *cmd, "conf/app.env", rc=1)
    word = _given(ran.err)
    assert word == "../conf/app.env", ran.err
    again = subprocess.run(
        ["sh", "-c", "git snapshot " + " ".join(then) + " " + word],
        cwd=sub,
        capture_output=True,
        timeout=120,
    )
    assert again.returncode == 0, again
    if cmd[0] == "cat":
        assert again.stdout == SECRET


def test_restore_says_it_as_before(sub: Path) -> None:
    ran = gs(sub, "restore", "1", "conf/app.env", "--dry-run", rc=1)
    assert _given(ran.err) == "../conf/app.env", ran.err


def test_a_path_held_nowhere_keeps_the_old_hints(sub: Path) -> None:
    cat = gs(sub, "cat", "1", "conf/nothing", rc=1)
    assert "see its versions with: git snapshot log conf/nothing" in cat.err, cat.err
    log = gs(sub, "log", "conf/nothing", rc=1)
    assert "look for it by name with: git snapshot find NAME" in log.err, log.err
