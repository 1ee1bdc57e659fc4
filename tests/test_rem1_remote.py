"""Session 17 (REM1): a file:// remote's renames made durable (the folder fsynced), and pull
checking a pack copy it did not just download (the remote cache's, or one a killed pull left
in place) before entering it. Real CLI, file:// remotes."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from clihelpers import VENV_BIN
from test_red13_remote import pushed


@pytest.fixture(autouse=True)
def _config_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(Path(os.environ["HOME"]) / "config"))


def _rot(pack: Path) -> None:
    """One byte flipped in the middle of *pack* (a bad disk under the copy)."""
    data = bytearray(pack.read_bytes())
    data[len(data) // 2] ^= 0x40
    pack.write_bytes(bytes(data))


def _second_machine(tmp_path: Path) -> dict[str, str]:
    from remotehelpers import machine
    from remotehelpers import on

    key = Path(os.environ["XDG_CONFIG_HOME"]) / "git-snapshot" / "keys" / "r.key"
    other = machine(tmp_path, "m2")
    on(other, tmp_path, "remote", "add", "r", f"file://{tmp_path}/remote", "--key", str(key))
    return other


def _cat(repo: Path, env: dict[str, str], number: int, path: str) -> bytes:
    """``git snapshot cat NUMBER PATH``'s bytes, in *repo*, on the machine of *env*."""
    ran = subprocess.run(
        ["git", "snapshot", "cat", str(number), path],
        cwd=repo,
        env={**os.environ, **env, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}"},
        capture_output=True,
        check=True,
    )
    return ran.stdout


def _pulled_right(other: dict[str, str], tmp_path: Path, repo: Path, wants: list[bytes]) -> None:
    from remotehelpers import on

    out = on(other, tmp_path, "pull", "r").out
    assert f"pulled {len(wants)} snapshot(s)" in out, out
    assert "ok" in on(other, tmp_path, "verify", "--read-data").out
    for i, want in enumerate(wants):
        assert _cat(repo, other, i + 1, f"f{i}") == want


def _contents(repo: Path, n: int) -> list[bytes]:
    wants = [_cat(repo, {}, i + 1, f"f{i}") for i in range(n)]
    assert all(len(w) == 50_000 for w in wants)
    return wants


@pytest.mark.slow
@pytest.mark.parametrize("summed", [True, False])
def test_pull_drops_a_rotted_cached_pack_and_downloads_it_again(
    tmp_path: Path, summed: bool
) -> None:
    """A pack a --remote read fetched into the cache was copied into the store by pull
    without a check: a byte rotted on disk there was entered as good (only verify
    --read-data found it, after the pull said it pulled). The copy is checked against the
    SHA-256 the cache kept when it fetched the pack, or, for a pack fetched before sums were
    kept (*summed* False), against the remote's index document."""
    from remotehelpers import on

    repo = pushed(tmp_path, 2)
    wants = _contents(repo, 2)
    other = _second_machine(tmp_path)
    on(other, tmp_path, "cat", "--remote", "r", "proj:1", "f0")  # fetched into m2's cache
    cached = list((tmp_path / "m2" / "cache").glob("git-snapshot/remotes/*/store/packs/*.pack"))
    assert len(cached) == 1, cached
    sums = list((tmp_path / "m2" / "cache").glob("git-snapshot/remotes/*/sums/*"))
    assert [p.name for p in sums] == [cached[0].name[: -len(".pack")]]
    if not summed:
        sums[0].unlink()
    _rot(cached[0])
    _pulled_right(other, tmp_path, repo, wants)
    assert not cached[0].exists()  # dropped; a read fetches it again
    assert not sums[0].exists()


@pytest.mark.slow
def test_pull_checks_a_pack_a_killed_pull_left_in_place(tmp_path: Path) -> None:
    """A pull killed before its rows leaves its packs in place; the next pull entered such a
    pack as it found it."""
    from test_red13_remote import pull_killed_before_rows

    repo = pushed(tmp_path, 2)
    wants = _contents(repo, 2)
    other = pull_killed_before_rows(tmp_path)
    packs = sorted((tmp_path / "m2" / "store" / "packs").glob("*.pack"))
    assert packs
    for p in packs:
        _rot(p)
    _pulled_right(other, tmp_path, repo, wants)


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("strace") is None, reason="needs strace")
def test_a_file_remote_fsyncs_the_folder_after_each_rename_or_link(tmp_path: Path) -> None:
    """A file:// remote fsynced each object's temp file, then linked or renamed it into its
    folder and never fsynced the folder: a power loss on the remote's machine could lose
    packs push had reported pushed. Every link/rename into a folder is followed by an fsync
    of that folder before the push ends (and before the next object is written)."""
    from clihelpers import gs

    repo = pushed(tmp_path, 1)
    (repo / "g").write_bytes(os.urandom(40_000))
    gs(repo, "-m", "more")
    trace = tmp_path / "trace"
    env = {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}"}
    subprocess.run(
        [
            "strace",
            "-ff",  # one file per process and thread: no interleaved "<unfinished ...>" lines
            "-o",
            str(trace),
            "-e",
            "trace=fsync,link,linkat,rename,renameat,renameat2,openat,close",
            "git",
            "snapshot",
            "push",
        ],
        cwd=repo,
        env=env,
        check=True,
        capture_output=True,
    )
    remote = str(tmp_path / "remote")
    fds: dict[tuple[str, str], str] = {}  # (thread, fd) -> path
    pending: dict[str, set[str]] = {}  # thread -> folders renamed/linked into, not yet fsynced
    moved = 0
    lines = [
        (one.suffix, line)
        for one in tmp_path.glob("trace.*")
        for line in one.read_text().splitlines()
    ]
    for pid, line in lines:
        if m := re.search(r'openat\(AT_FDCWD, "([^"]+)".*O_DIRECTORY.*= (\d+)$', line):
            fds[pid, m[2]] = m[1]
        elif m := re.search(
            r'(?:link|rename)\w*\(.*"([^"]+)", "(' + re.escape(remote) + r'/[^"]+)".*= 0$', line
        ):
            if "/.tmp/" in m[1] or m[1].startswith(remote):
                pending.setdefault(pid, set()).add(os.path.dirname(m[2]))
                moved += 1
        elif m := re.search(r"fsync\((\d+)\)", line):
            folder = fds.get((pid, m[1]))
            if folder is not None:
                pending.get(pid, set()).discard(folder)
    assert moved >= 3  # packs, their index documents, snapshot documents
    assert not any(pending.values()), pending


@pytest.mark.slow
def test_pull_copies_a_good_cached_pack(tmp_path: Path) -> None:
    """An intact cached copy passes its sum: copied, not downloaded (the remote's copy is
    gone, so a download would fail), and kept in the cache."""
    from remotehelpers import on

    repo = pushed(tmp_path, 1)
    wants = _contents(repo, 1)
    other = _second_machine(tmp_path)
    on(other, tmp_path, "cat", "--remote", "r", "proj:1", "f0")
    (cached,) = (tmp_path / "m2" / "cache").glob("git-snapshot/remotes/*/store/packs/*.pack")
    (tmp_path / "remote" / "packs" / cached.name[: -len(".pack")]).write_bytes(b"gone bad")
    _pulled_right(other, tmp_path, repo, wants)
    assert cached.exists()
