"""Long output goes through git's pager and colour appears where git would use them: on a
real terminal (a pty), never in a pipe, and as git's settings and NO_COLOR say."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from ptyhelpers import run_tty
from test_cli_helpers import write

ESC = b"\x1b["
YELLOW = b"\x1b[33m"


@pytest.fixture
def snapped(repo: Path) -> Path:
    """A repository with two snapshots: a.txt added between them, README removed."""
    write(repo / "keep.txt", "one\n")
    gs(repo, "-m", "first")
    write(repo / "a.txt", "new\n")
    (repo / "README").unlink()
    gs(repo, "-m", "second")
    return repo


@pytest.fixture
def pager(tmp_path: Path) -> Path:
    """A pager that records its environment ($0.env) and what it was given ($0.out)."""
    script = tmp_path / "pager.sh"
    script.write_text(
        "#!/bin/sh\n"
        'printf "LESS=%s\\nLV=%s\\nIN_USE=%s\\n" "$LESS" "$LV" "$GIT_PAGER_IN_USE" > "$0.env"\n'
        'cat > "$0.out"\n'
    )
    script.chmod(0o755)
    return script


def _paged(pager: Path) -> bytes | None:
    out = Path(f"{pager}.out")
    return out.read_bytes() if out.exists() else None


# ------------------------------------------------------------------------------ the pager


@pytest.mark.parametrize(
    "command",
    [["list"], ["show", "latest"], ["diff", "1", "2"], ["log", "a.txt"], ["find", "*.txt"]],
)
def test_long_output_goes_through_the_pager_on_a_terminal(
    snapped: Path, pager: Path, command: list[str]
) -> None:
    ran = run_tty(snapped, *command, env={"GIT_PAGER": str(pager), "LESS": None, "LV": None})
    assert ran.rc == 0, ran
    paged = _paged(pager)
    assert paged, f"the pager was not started; the terminal showed {ran.tty!r}"
    assert b"a.txt" in paged or b"ID" in paged
    assert b"a.txt" not in ran.tty  # all of it went to the pager
    env = Path(f"{pager}.env").read_text().splitlines()
    assert env == ["LESS=FRX", "LV=-c", "IN_USE=true"]  # git's defaults for less and lv


def test_no_pager_in_a_pipe(snapped: Path, pager: Path) -> None:
    ran = run_tty(snapped, "list", stdout=False, env={"GIT_PAGER": str(pager)})
    assert ran.rc == 0
    assert _paged(pager) is None
    assert b"second" in ran.out


@pytest.mark.parametrize(
    "how", ["-P", "--no-pager", "pager.snapshot=false", "GIT_PAGER=cat", "GIT_PAGER="]
)
def test_pager_turned_off(snapped: Path, pager: Path, how: str) -> None:
    args, env = ["list"], {"GIT_PAGER": str(pager)}
    if how.startswith("-"):
        args.insert(0, how)
    elif how.startswith("pager."):
        git(snapped, "config", "pager.snapshot", "false")
    else:
        env["GIT_PAGER"] = how.split("=", 1)[1]
    ran = run_tty(snapped, *args, env=env)
    assert ran.rc == 0
    assert _paged(pager) is None
    assert b"second" in ran.tty  # printed on the terminal itself


def test_git_no_pager_reaches_us(snapped: Path, pager: Path) -> None:
    """'git --no-pager snapshot list' (git sets GIT_PAGER=cat for its child): no pager."""
    git(snapped, "config", "core.pager", str(pager))
    ran = run_tty(snapped, "--no-pager", "list", env={"GIT_PAGER": None, "PAGER": None})
    assert _paged(pager) is None and b"second" in ran.tty


@pytest.mark.parametrize("where", ["core.pager", "PAGER", "pager.snapshot", "LESS kept"])
def test_the_pager_git_would_use(snapped: Path, pager: Path, where: str) -> None:
    env: dict[str, str | None] = {"GIT_PAGER": None, "PAGER": None, "LESS": None}
    if where == "core.pager":
        git(snapped, "config", "core.pager", str(pager))
    elif where == "PAGER":
        env["PAGER"] = str(pager)
    elif where == "pager.snapshot":  # a command there is the pager, as in git
        git(snapped, "config", "pager.snapshot", str(pager))
        env["PAGER"] = "false"
    else:
        env["GIT_PAGER"], env["LESS"] = str(pager), "R"
    ran = run_tty(snapped, "list", env=env)
    assert ran.rc == 0
    assert _paged(pager), ran.tty
    if where == "LESS kept":
        assert "LESS=R" in Path(f"{pager}.env").read_text()


def test_short_commands_are_not_paged(snapped: Path, pager: Path) -> None:
    ran = run_tty(snapped, "-m", "third", env={"GIT_PAGER": str(pager)})
    assert ran.rc == 0 and _paged(pager) is None
    assert b"snapshot 3:" in ran.tty


def test_an_error_reaches_the_terminal_after_the_pager(snapped: Path, pager: Path) -> None:
    ran = run_tty(snapped, "show", "99", env={"GIT_PAGER": str(pager)})
    assert ran.rc == 1
    assert b"git-snapshot: " in ran.tty and b"99" in ran.tty


# --------------------------------------------------------------------------------- colour


def _no_pager(**env: str | None) -> dict[str, str | None]:
    return {"GIT_PAGER": "cat", **env}


def test_colour_on_a_terminal(snapped: Path) -> None:
    ran = run_tty(snapped, "list", env=_no_pager())
    assert YELLOW + b"1" in ran.tty  # ids in yellow, as git's commit ids
    lines = ran.tty.splitlines()
    header = next(ln for ln in lines if b"CREATED" in ln)
    assert ESC not in header  # the header is plain; columns still line up below it
    plain = [re.sub(rb"\x1b\[[0-9;]*m", b"", ln) for ln in lines if b"first" in ln]
    assert plain and plain[0].index(b"first") == header.index(b"MESSAGE")


@pytest.mark.parametrize(
    "how",
    [
        "NO_COLOR=1",
        "pipe",
        "--no-color",
        "--color=never",
        "color.ui=never",
        "color.ui=false",
        "color.snapshot=never",
        "TERM=dumb",
    ],
)
def test_no_colour(snapped: Path, how: str) -> None:
    args, env, stdout = ["list"], _no_pager(), True
    if how == "pipe":
        stdout = False
    elif how.startswith("-"):
        args.insert(0, how)
    elif how.startswith("color."):
        key, value = how.split("=")
        git(snapped, "config", key, value)
        if key == "color.snapshot":
            git(snapped, "config", "color.ui", "always")  # color.snapshot is asked first
    else:
        key, value = how.split("=")
        env[key] = value
    ran = run_tty(snapped, *args, stdout=stdout, env=env)
    assert ran.rc == 0
    shown = ran.tty + ran.out
    assert b"first" in shown
    assert ESC not in shown


@pytest.mark.parametrize("how", ["--color=always", "--color", "color.ui=always"])
def test_colour_forced_into_a_pipe(snapped: Path, how: str) -> None:
    args = ["list"]
    if how.startswith("-"):
        args.insert(0, how)
    else:
        git(snapped, "config", "color.ui", "always")
    ran = run_tty(snapped, *args, stdout=False, env=_no_pager())
    assert YELLOW in ran.out


def test_colour_under_the_pager(snapped: Path, pager: Path) -> None:
    """stdout is the pager's pipe, yet a person reads it: coloured, as git does."""
    run_tty(snapped, "list", env={"GIT_PAGER": str(pager)})
    paged = _paged(pager)
    assert paged and YELLOW in paged


def test_diff_added_green_removed_red(snapped: Path) -> None:
    ran = run_tty(snapped, "diff", "1", "2", env=_no_pager())
    assert b"\x1b[32mA a.txt" in ran.tty
    assert b"\x1b[31mD README" in ran.tty
    ran = run_tty(snapped, "diff", "1", "2", "-p", env=_no_pager())
    assert b"\x1b[32m+new" in ran.tty and b"\x1b[31m-hello" in ran.tty
    assert b"\x1b[36m@@" in ran.tty  # hunk headers cyan, as git
    assert b"\x1b[1m--- a/README" in ran.tty


def test_diff_with_no_colour_is_plain_in_a_pipe(snapped: Path) -> None:
    out = gs(snapped, "diff", "1", "2", "-p")
    assert "\x1b[" not in out and "+new" in out


def test_invalid_colour_setting_is_one_line(snapped: Path) -> None:
    git(snapped, "config", "color.ui", "sometimes")
    ran = run_tty(snapped, "list", env=_no_pager())
    assert ran.rc == 1
    said = [ln for ln in ran.tty.splitlines() if ln.strip()]
    assert said[-1].startswith(b"git-snapshot: bad") and b"color.ui" in said[-1], said


def test_pipes_stay_free_of_escapes_for_every_paged_command(snapped: Path) -> None:
    for args in (["list"], ["show", "latest"], ["log", "a.txt"], ["find", "*.txt"]):
        out = gs(snapped, *args)
        assert "\x1b" not in out, args
    assert os.environ.get("NO_COLOR") is None or True


def test_a_loss_report_is_red_on_a_terminal_only(repo: Path) -> None:
    """git checkout overwrites an ignored file: the hook's report line is red on a terminal."""
    gs(repo, "install")
    git(repo, "checkout", "-q", "-b", "other")
    write(repo / "build.log", "tracked on other\n")
    git(repo, "add", "-f", "build.log")
    git(repo, "commit", "-q", "-m", "log")
    git(
        repo,
        "checkout",
        "-q",
        "main" if git(repo, "branch", "--list", "main").strip() else "master",
    )
    write(repo / ".gitignore", "*.log\n")
    write(repo / "build.log", "my precious local log\n")
    gs(repo, "-m", "before")
    ran = run_tty(repo, "checkout", "-q", "other", program=["git"], env=_no_pager())
    said = [ln for ln in ran.tty.splitlines() if b" destroyed " in ln]
    assert said and said[0].startswith(b"\x1b[31mgit-snapshot: "), ran.tty
    git(repo, "checkout", "-q", "-f", "-")  # back: build.log goes (tracked only on other)
    write(repo / "build.log", "and again\n")
    gs(repo, "-m", "before again")
    ran = run_tty(repo, "checkout", "-q", "other", program=["git"], stderr=False, env=_no_pager())
    assert b" destroyed " in ran.err and b"\x1b[" not in ran.err
