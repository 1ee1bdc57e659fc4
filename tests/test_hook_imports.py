"""The hook's import graph stays lean: a hook run on an unchanged worktree (the one every
`git checkout` pays for) imports none of the modules that cost a hook its budget.

Interpreter start and imports are most of an unchanged hook's time (issue 10: the fixed cost
on a small repository). Each module below was on the hook path once and was taken off it;
this test fails if one creeps back (a `from dataclasses import dataclass` or a `from typing
import NamedTuple` at the top of any module a hook imports, a `subprocess` call...).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from clihelpers import git
from hookhelpers import head

# module -> what brought it in, and why it must not come back
HEAVY = {
    "argparse": "the command line (cli.py): hooks start at hookmain.main",
    "subprocess": "git runs through os.posix_spawnp (gitrepo._spawn)",
    "signal": "brought by subprocess",
    "selectors": "brought by subprocess",
    "shutil": "Store.scratch() and overlays only",
    "tempfile": "Store.scratch() only; location checks TMPDIR/TEMP/TMP itself",
    "random": "brought by tempfile",
    "bz2": "brought by shutil",
    "lzma": "brought by shutil",
    "pathlib": "store paths are str (location, Store.path); pathlib brings urllib.parse too",
    "urllib.parse": "index: only Index._open_readonly quotes a path for an URI",
    "typing": "NamedTuple / TYPE_CHECKING: collections.namedtuple, TYPE_CHECKING = False",
    "dataclasses": "plain classes with __slots__ (Options, Result, Snapshot, Location...)",
    "inspect": "brought by dataclasses",
    "ast": "brought by inspect",
    "zstandard": "imported on first (de)compression: an unchanged snapshot does neither",
    "platformdirs": "location finds the default store on Linux itself",
}
# sqlite3 brings datetime itself; store/packs.py still imports threading.

PROBE = """
import json, sys
sys.argv = ["git-snapshot", "hook", *sys.argv[1:]]
from git_snapshot.hookmain import main
status = main()
sys.stdout.write(json.dumps({"status": status, "modules": sorted(sys.modules)}))
"""


def _hook_modules(repo: Path, *args: str) -> tuple[int, set[str], str]:
    ran = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        cwd=repo,
        capture_output=True,
        text=True,
        env={**os.environ, "GIT_SNAPSHOT_WATCH": "0"},
        check=False,
    )
    got = json.loads(ran.stdout)
    return got["status"], set(got["modules"]), ran.stderr


def test_an_unchanged_hook_imports_nothing_heavy(repo: Path) -> None:
    (repo / ".gitignore").write_text("build/\n")
    (repo / "build").mkdir()
    (repo / "build" / "out.o").write_bytes(b"\0" * 100)
    (repo / "notes.txt").write_text("untracked\n")
    git(repo, "add", ".gitignore")
    git(repo, "commit", "-q", "-m", "ignore build")
    h = head(repo)
    status, _, err = _hook_modules(repo, "post-checkout", h, h, "1")  # the first snapshot
    assert status == 0 and "snapshot 1 (post-checkout)" in err, err
    status, modules, err = _hook_modules(repo, "post-checkout", h, h, "1")
    assert status == 0 and "unchanged since snapshot 1" in err, err
    back = {m: why for m, why in HEAVY.items() if m in modules}
    assert not back, f"heavy modules back on the hook path: {back}"
    assert "git_snapshot.cli" not in modules  # nor the argparse tree of every command


@pytest.mark.parametrize(
    "env",
    [{}, {"XDG_DATA_HOME": "/x/data"}, {"XDG_DATA_HOME": "relative"}, {"HOME": "/"}],
)
def test_default_store_dir_is_platformdirs_answer(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The default store is found without importing platformdirs (typing and more: tens of
    ms of every hook), with the very answer platformdirs gives."""
    import platformdirs

    from git_snapshot.store import location

    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    want = platformdirs.user_data_dir("git-snapshot", appauthor=False)
    # default_store_dir() itself is off limits to tests (conftest): this is what it returns
    assert location._xdg_data_dir() in (want, None)
    if sys.platform.startswith("linux"):
        assert location._xdg_data_dir() == want
