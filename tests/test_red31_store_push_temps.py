"""Red team (session 31, A3): a ``push`` killed at one of its writes left ``.gsnap-tmp-*``
files in the user's cache (``remotes/`` and ``remotes/<name>-<id>/``: locks-seen, tree-packs,
pushed-packs, kept documents), and nothing swept them, although safewrite says the next run
does. Now a remote's cache sweeps its folders when it is opened; a temp file whose writer is
alive (it holds it locked until its rename) is never taken."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from clihelpers import gs

from git_snapshot.store.safewrite import TEMP_MARK
from git_snapshot.store.safewrite import atomic_file


def _temps(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob(f"{TEMP_MARK}*") if p.is_file())


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("strace") is None, reason="strace is not installed")
def test_temps_of_killed_pushes_are_swept_by_the_next_push(repo: Path, tmp_path: Path) -> None:
    cache = Path(os.environ["XDG_CACHE_HOME"]) / "git-snapshot"
    gs(repo, "create")
    gs(repo, "remote", "add", "nas", str(tmp_path / "remote"))
    killed, seen = 0, set()
    for n in range(1, 9):
        (repo / f"r{n}.bin").write_bytes(os.urandom(100_000))
        gs(repo, "create")
        argv = [
            *("strace", "-f", "-qq", "-o", "/dev/null", "-e", "trace=write"),
            *("-e", f"inject=write:signal=KILL:when={n}"),
            *(sys.executable, "-m", "git_snapshot", "push", "nas"),
        ]
        ran = subprocess.run(argv, cwd=repo, capture_output=True, timeout=120, check=False)
        killed += ran.returncode != 0
        seen.update(_temps(cache))
    assert killed, "no push was killed"
    assert seen, "no kill left a temp file: the test no longer tests anything"
    gs(repo, "push", "nas")
    gs(repo, "list", "--remote", "nas")
    assert _temps(cache) == [], [str(p.relative_to(cache)) for p in _temps(cache)]
    assert "ok" in gs(repo, "verify", "--remote", "nas").out


def test_a_live_writers_temp_file_is_not_swept(tmp_path: Path) -> None:
    from git_snapshot.store.remote.cache import sweep_cache

    remotes = tmp_path / "remotes"
    mine = remotes / "nas-0123456789ab"
    mine.mkdir(parents=True)
    dead = remotes / f"{TEMP_MARK}0123456789ab-locks-seen-x.json"
    dead.write_bytes(b"")
    with atomic_file(str(mine / "pushed-packs.json"), durable=False) as f:
        f.write(b"[]")
        sweep_cache(str(mine))
        assert not dead.exists()
        assert len(_temps(remotes)) == 1  # the live one
    assert (mine / "pushed-packs.json").read_bytes() == b"[]"
    assert _temps(remotes) == []
