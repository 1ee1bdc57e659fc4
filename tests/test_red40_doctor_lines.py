"""RED40 D9.4: `doctor`'s watcher line nested parentheses ("not running (does not watch
this worktree: ... GIT_SNAPSHOT_WATCH=0 (git snapshot watch add . does)); ..."), and a hook
made non-executable got "WILL NOT FIRE: ... is not executable, so git skips it" with no
next step, while `git snapshot install`, which fixes it, answered "already installed".

Real git, the plain hooks installed as a user installs them.
"""

from __future__ import annotations

from pathlib import Path

from clihelpers import git
from clihelpers import gs
from hookhelpers import install


def _line(out: str, start: str) -> str:
    (line,) = [ln for ln in out.splitlines() if ln.startswith(start)]
    return line


def _nests(line: str) -> bool:
    depth = 0
    for ch in line:
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if depth > 1:
            return True
    return False


def test_doctors_watcher_line_nests_no_parentheses(repo: Path) -> None:
    install(repo)
    line = _line(gs(repo, "doctor", GIT_SNAPSHOT_WATCH="0").out, "watcher:")
    assert "does not watch this worktree: hooks neither register nor start it" in line, line
    assert "git snapshot watch add . does" in line, line
    assert not _nests(line), line
    gs(repo, "watch", "add", ".")  # (starts the watcher: stopped at once)
    gs(repo, "watch", "stop")
    gs(repo, "watch", "remove", ".")
    line = _line(gs(repo, "doctor", GIT_SNAPSHOT_WATCH="0").out, "watcher:")
    assert "watch add PATH brings it back" in line and not _nests(line), line


def test_a_hook_made_non_executable_is_named_with_its_fix_and_install_says_it_fixed_it(
    repo: Path,
) -> None:
    install(repo)
    hook = Path(git(repo, "rev-parse", "--git-path", "hooks").out.strip())
    if not hook.is_absolute():
        hook = repo / hook
    (hook / "post-merge").chmod(0o644)
    said = gs(repo, "doctor", rc=None).out
    line = _line(said, "post-merge:")
    assert "is not executable, so git skips it" in line, line
    assert line.endswith("run git snapshot install"), line
    out = gs(repo, "install").out
    assert "post-merge: made executable again" in out, out
    assert "post-merge: already installed" not in out, out
    assert (hook / "post-merge").stat().st_mode & 0o111
    line = _line(gs(repo, "doctor").out, "post-merge:")
    assert line.startswith("post-merge: fires"), line
