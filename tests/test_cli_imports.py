"""The commands the tests and people run most import no module that costs them startup time
for nothing: each command is a process of its own (~5,500 in the test suite), and every
millisecond of import is paid by each.

Each module below was imported by these commands once and was taken off their path (session
52); this test fails if one creeps back (a ``from typing import Any`` outside TYPE_CHECKING, a
``@dataclass``, ``importlib.resources``...). The hooks have their own, stricter list
(tests/test_hook_imports.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from clihelpers import gs

# module -> why it must not come back
HEAVY = {
    "typing": "annotations only: TYPE_CHECKING = False, ctx.record for NamedTuple (~5 ms)",
    "dataclasses": "plain classes with __slots__ (install's _Plan, doctor's HookState, guards'"
    " Target and Saved, run's _Mark: ~11 ms)",
    "inspect": "brought by dataclasses",
    "importlib.resources": "hookfiles.template reads the shim next to the module (~10 ms)",
    "zipfile": "brought by importlib.resources",
    "pathlib": "install finds the executable with os.path",
}

PROBE = """
import json, sys
sys.argv = ["git-snapshot", *sys.argv[1:]]
from git_snapshot.hookmain import main
status = main()
sys.stdout.flush()
sys.stderr.write("\\nMODULES " + json.dumps(sorted(sys.modules)) + "\\n")
sys.exit(status)
"""


def _modules(cwd: Path, *args: str) -> set[str]:
    """The modules a command run as the executable runs it imported (doctor exits 1 where no
    hook is installed, undo where there is nothing to undo: no crash all the same)."""
    ran = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, "GIT_SNAPSHOT_WATCH": "0"},
        check=False,
    )
    assert ran.returncode in (0, 1) and "internal error" not in ran.stderr, ran.stderr
    line = ran.stderr.rsplit("\nMODULES ", 1)[1]
    return set(json.loads(line))


COMMANDS = [
    ["list"],
    ["show", "1"],
    ["create", "-m", "again"],
    ["restore", "1"],
    ["diff", "1"],
    ["cat", "1", "a.txt"],
    ["log", "a.txt"],
    ["losses"],
    ["undo", "--dry-run"],
    ["install"],
    ["doctor"],
    ["uninstall"],
    ["run", "-m", "guarded", "git", "status"],
]


@pytest.mark.parametrize("args", COMMANDS, ids=[" ".join(a) for a in COMMANDS])
def test_a_common_command_imports_nothing_heavy(repo: Path, args: list[str]) -> None:
    (repo / "a.txt").write_text("a\n")
    gs(repo, "create", "-m", "first")
    (repo / "a.txt").write_text("changed\n")
    if args[0] == "uninstall":
        gs(repo, "install")
    modules = _modules(repo, *args)
    back = {m: why for m, why in HEAVY.items() if m in modules}
    assert not back, f"heavy modules back on the path of {' '.join(args)}: {back}"
    if args[0] in WITHOUT_HOOKS:
        assert "git_snapshot.hooks" not in modules
    if args[0] in ("losses", "cat"):  # (a listing, one file's content: no restore code)
        assert "git_snapshot.commands.restore" not in modules


# commands that never import the hooks module (1,100 lines, ~3 M instructions): repo_at
# finds git-snapshot's files in the git dir by gitrepo's names (losses, install, doctor and
# run need the hooks for more)
WITHOUT_HOOKS = {"list", "show", "create", "restore", "diff", "cat", "log"}
