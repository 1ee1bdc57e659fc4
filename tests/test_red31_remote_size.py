"""RED31 C5: a remote object of a lying size (a pack replaced by a 3 GB file) was read whole
into memory before any check: pull and ``restore --remote`` died with ``internal error:
MemoryError()`` (or the OOM killer). The listing gives each object's size and the pack's index
document the size it was sealed at: a pack whose listed size is not that one is now named as
damaged in one line without being downloaded, as verify --remote names it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from clihelpers import VENV_BIN
from clihelpers import run
from conftest import committed_repo
from remotehelpers import machine
from remotehelpers import on

pytestmark = pytest.mark.slow

BIG = 3_000_000_000


def _limited(m: dict[str, str], cwd: Path, *args: str, rc: int) -> str:
    """``git snapshot ARGS`` with its address space limited to 1.5 GB (a lying object read
    whole fails there, as on a small machine)."""
    path = f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"
    env = {**os.environ, **m, "PATH": path}
    sh = 'ulimit -v 1500000 && exec git snapshot "$@"'
    ran = run(cwd, "sh", "-c", sh, "sh", *args, rc=rc, env=env)
    assert "internal error" not in ran.err and "MemoryError" not in ran.err, ran.err
    return ran.out + ran.err


def test_a_pack_of_the_wrong_listed_size_is_named_damaged_not_read(tmp_path: Path) -> None:
    repo = committed_repo(tmp_path / "w")
    a = machine(tmp_path, "a")
    remote = tmp_path / "remote"
    on(a, repo, "remote", "add", "nas", f"file://{remote}")
    (repo / "data.txt").write_text("kept\n")
    on(a, repo, "-m", "first")
    on(a, repo, "push")
    key = Path(a["XDG_CONFIG_HOME"]) / "git-snapshot" / "keys" / "nas.key"
    b = machine(tmp_path, "b")
    on(b, repo, "remote", "add", "nas", f"file://{remote}", "--key", str(key))
    (pack,) = os.listdir(remote / "packs")
    with open(remote / "packs" / pack, "r+b") as f:
        f.truncate(BIG)  # sparse: no room taken
    err = _limited(b, repo, "pull", rc=1)
    assert f"packs/{pack}" in err and f"has {BIG} bytes" in err, err
    err = _limited(b, repo, "restore", "--remote", "nas", "1", "--to", str(tmp_path / "o"), rc=1)
    assert f"has {BIG} bytes" in err, err
    assert "verify --remote nas" in err, err
    err = _limited(b, repo, "cat", "--remote", "nas", "1", "data.txt", rc=1)
    assert f"has {BIG} bytes" in err, err
    assert "verify --remote nas" in err, err
