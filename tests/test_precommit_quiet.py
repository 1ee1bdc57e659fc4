"""Through the real pre-commit framework, a hook says one line when nothing is lost (pre-commit's
"...Passed"), and a loss report is never hidden: it goes to the controlling terminal, and
without one the next git-snapshot command in the worktree prints it, once.

The lines are counted as a user sees them: without a terminal (captured, as in CI) and on a
real pseudo-terminal (util-linux `script`), where /dev/tty is the controlling terminal.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
from clihelpers import Ran
from clihelpers import git
from clihelpers import gs
from hookhelpers import COMMITTED
from hookhelpers import SECRET
from hookhelpers import env_report
from hookhelpers import restore_env
from hookhelpers import side_commit
from hookhelpers import write
from precommithelpers import HookRepo
from precommithelpers import pc_install

pytestmark = pytest.mark.slow


def ours(text: str) -> list[str]:
    """The lines git-snapshot or its pre-commit hooks put on the screen (colours taken out)."""
    plain = re.sub(r"\x1b\[[0-9;]*m", "", text)
    return [ln.strip() for ln in plain.splitlines() if "git-snapshot" in ln and ln.strip()]


def on_a_terminal(r: Path, *argv: str) -> tuple[int, str]:
    """Run *argv* in *r* with a pseudo-terminal as its controlling terminal (as in a shell);
    returns the exit status and everything the terminal showed."""
    if shutil.which("script") is None:
        pytest.skip("util-linux script is not installed")
    res = subprocess.run(
        ["script", "-qec", shlex.join(argv), "/dev/null"],
        cwd=r,
        capture_output=True,
        check=False,
        timeout=120,
    )
    return res.returncode, res.stdout.decode("utf-8", "replace").replace("\r\n", "\n")


def _branch_over_env(r: Path) -> None:
    side_commit(r, "feature", {".env": COMMITTED})
    pc_install(r)
    write(r / ".env", SECRET)
    gs(r, "create")


def test_nothing_lost_is_one_line(pc: Path, hook_repo: HookRepo) -> None:
    r = pc
    side_commit(r, "feature", {"f.txt": b"f\n"})
    pc_install(r)
    ran = git(r, "checkout", "feature")
    assert ours(ran.out + ran.err) == [
        next(ln for ln in ours(ran.out + ran.err) if ln.endswith("Passed"))
    ]
    assert ours(ran.out + ran.err)[0].startswith("git-snapshot (post-checkout)")
    rc, screen = on_a_terminal(r, "git", "checkout", "main")
    assert rc == 0 and len(ours(screen)) == 1 and ours(screen)[0].endswith("Passed"), screen


def test_a_loss_without_a_terminal_is_printed_by_the_next_command_once(pc: Path) -> None:
    r = pc
    _branch_over_env(r)
    ran = git(r, "checkout", "-q", "feature")
    assert ran.rc == 0
    assert len(ours(ran.out + ran.err)) == 1 and "destroyed" not in ran.out + ran.err
    nxt = gs(r, "list")
    (line,) = [ln for ln in nxt.err.splitlines() if "destroyed" in ln]
    assert re.match(
        r"git-snapshot: earlier, at (?:\d{4}-\d\d-\d\d )?\d\d:\d\d: "
        r"git checkout destroyed 1 ignored",
        line,
    )
    assert "destroyed" not in gs(r, "list").err  # once
    losses = gs(r, "losses").out
    assert "git checkout" in losses and ".env" in losses  # and kept for good
    restore_env(r, env_report(Ran(0, "", line), "git checkout"))


def test_a_loss_on_a_terminal_is_shown_at_once(pc: Path) -> None:
    r = pc
    _branch_over_env(r)
    rc, screen = on_a_terminal(r, "git", "checkout", "-q", "feature")
    assert rc == 0  # post-checkout's status is git's: the checkout succeeded
    lines = ours(screen)
    assert len(lines) == 2, screen  # "git-snapshot (post-checkout)....Passed", the report
    assert lines[0] == "git-snapshot (post-checkout)" + "." * (len(lines[0]) - 28)
    report = env_report(Ran(0, "", next(ln for ln in lines if "destroyed" in ln)), "git checkout")
    assert "destroyed" not in gs(r, "list").err  # seen already: not printed again
    restore_env(r, report)
