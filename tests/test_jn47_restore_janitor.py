"""Session 47 (jn47): a restore killed (SIGKILL) between giving a finished file its temp name
and renaming it over the user's file left `.gsnap-tmp-<tag><rand>-NAME` in the user's folder:
git showed it as a new untracked file, `git add .` would commit it, and only the next restore
of that folder (or gc) removed it (CI at c0b92f1: test_red3_killed_restore, 1 run in 7 under
load). The window is microseconds wide; strace's syscall injection kills the restore exactly
at the rename here. A run's janitor (store/leftovers.py: _janitor), a forked process in a
session of its own that outlives the kill, now removes the dead run's temp names, and only
those, at once."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from clihelpers import VENV_BIN
from clihelpers import git
from clihelpers import gs
from hookhelpers import install
from storehelpers import EXPORT_KILLER
from storehelpers import NO_JANITOR
from storehelpers import D
from storehelpers import F
from storehelpers import build
from storehelpers import ours
from storehelpers import take
from storehelpers import wait_gone

from git_snapshot.store import Store
from git_snapshot.store import leftovers

TMP = ".gsnap-tmp-"
# a renameat of the traced processes (the restore's, of a temp name over NAME: the store's
# own renames are rename()) gets SIGKILL as it is entered: the temp name is there, not NAME
KILL_AT_RENAME = [
    "-f",
    "-o",
    os.devnull,
    "-e",
    "trace=?renameat,?renameat2",
    "-e",
    "inject=?renameat,?renameat2:signal=SIGKILL:when=1",
]


def _strace() -> str:
    strace = shutil.which("strace")
    if strace is None:
        pytest.skip("no strace here")
    res = subprocess.run([strace, *KILL_AT_RENAME, "true"], capture_output=True)
    if res.returncode != 0:
        pytest.skip(f"strace cannot inject here: {res.stderr!r}")
    return strace


def records(store_dir: Path) -> set[str]:
    runs = store_dir / leftovers.RUNS
    return set(os.listdir(runs)) - {leftovers.SPARE} if runs.is_dir() else set()


def _symlink(big: Path) -> None:
    (big / "l").symlink_to("a")


@pytest.mark.parametrize("kind", ["replaced", "symlink", "big"])
def test_a_restore_killed_at_its_rename_leaves_no_temp_name(
    repo: Path, store_dir: Path, kind: str
) -> None:
    """Killed with the temp name given and not yet renamed: a small file replacing the
    user's (written unnamed, linked to its temp name), a symlink replacing a file, a file
    over 4 MiB where nothing is (always the careful way)."""
    strace = _strace()
    install(repo)
    big = repo / "big"
    big.mkdir()
    (big / "a").write_bytes(b"snapshot a\n")
    name = {"replaced": "a", "symlink": "l", "big": "huge"}[kind]
    if kind == "symlink":
        _symlink(big)
    if kind == "big":
        (big / "huge").write_bytes(os.urandom(5_000_000))
    gs(repo, "create")
    new = os.readlink(big / name) if kind == "symlink" else (big / name).read_bytes()
    if kind == "big":
        (big / "huge").unlink()
    else:
        if kind == "symlink":
            (big / "l").unlink()
        (big / name).write_bytes(b"the user's edit\n")
    before = sorted(os.listdir(big))
    env = {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    res = subprocess.run(
        [strace, *KILL_AT_RENAME, str(VENV_BIN / "git-snapshot"), "restore", "1", "big"],
        cwd=repo,
        env=env,
        capture_output=True,
    )
    assert res.returncode in (-signal.SIGKILL, 128 + signal.SIGKILL), res
    # strace -f ends once every traced process has, the janitor too
    wait_gone(store_dir)  # (a bound only)
    names = sorted(os.listdir(big))
    assert not [n for n in names if n.startswith(TMP)], names  # the finding
    assert set(before) <= set(names) <= set(before) | {name}, names
    if kind == "symlink" and (big / name).is_symlink():
        assert os.readlink(big / name) == new
    elif (big / name).exists():
        assert (big / name).read_bytes() in (b"the user's edit\n", new)
    status = git(repo, "status", "--porcelain", "--ignored", "-uall").out
    assert TMP not in status, status
    assert records(store_dir) == set()  # the dead run's record went with its temp name


# A run that names a temp file in HERE and writes half of it, then forks a writer into a
# session of its own (a kill of the run's process group misses it: it holds the run's
# record, and its lock, until the test kills it), and puts a file named with its own tag in
# THERE, a folder it never gave a temp name in (a copy of a leftover: the user's).
RUN = """
import os, sys, time
from git_snapshot.store import leftovers
store, here, there = sys.argv[1:4]
run = leftovers.Run(store)
fd = os.open(here, os.O_RDONLY)
tmp = run.name(fd, b"f")
t = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600, dir_fd=fd)
leftovers.hold(t)
os.write(t, b"half")
with open(os.path.join(there, os.fsdecode(tmp)), "wb") as f:
    f.write(b"the user's")
ready, tell = os.pipe()
writer = os.fork()
if writer == 0:
    os.setsid()
    null = os.open(os.devnull, os.O_RDWR)
    for i in (0, 1, 2):
        os.dup2(null, i)
    os.close(ready)
    os.write(tell, b"1")
    os.close(tell)
    time.sleep(3600)
    os._exit(0)
os.close(tell)
os.read(ready, 1)  # out of the group the test kills
print(writer, os.fsdecode(tmp), flush=True)
sys.stdin.read()
"""


def _fds(pid: int) -> dict[str, str]:
    return {n: os.readlink(f"/proc/{pid}/fd/{n}") for n in os.listdir(f"/proc/{pid}/fd")}


def test_a_killed_runs_janitor_removes_its_temp_names_only_and_holds_nothing(
    store_dir: Path, tmp_path: Path
) -> None:
    store_dir.mkdir(parents=True, exist_ok=True)
    here, there = tmp_path / "here", tmp_path / "there"
    here.mkdir()
    there.mkdir()
    other = here / f"{TMP}0123456789ab-f"  # the user's, named like another run's temp file
    other.write_bytes(b"the user's too")
    with subprocess.Popen(
        [sys.executable, "-c", RUN, str(store_dir), str(here), str(there)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        start_new_session=True,
    ) as proc:
        assert proc.stdout is not None
        writer_s, tmp = proc.stdout.readline().decode().split()
        writer = int(writer_s)
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # the run and its process group
            assert proc.stdout.read() == b""  # its output's end: the janitor does not hold it
            proc.wait()
            janitors = set(ours(store_dir)) - {writer}
            fds = {j: _fds(j) for j in janitors}
            sessions = {j: os.getsid(j) for j in janitors}
            assert (here / tmp).exists()  # while a writer of the run lives: kept
        finally:
            os.kill(writer, signal.SIGKILL)
    wait_gone(store_dir)
    assert not (here / tmp).exists()  # the finding: removed once the run is all gone
    assert other.read_bytes() == b"the user's too"  # another tag: not this run's
    assert (there / tmp).read_bytes() == b"the user's"  # a folder it never named one in
    assert records(store_dir) == set()
    assert len(janitors) == 1, (janitors, fds)
    (j,) = janitors
    assert sessions[j] == j  # a session of its own: no kill of the run's group reaches it
    inherited = sorted(fds[j].items())
    assert [n for n, t in inherited if t == "/dev/null"] == ["0", "1", "2"], inherited
    assert len(inherited) == 4 and inherited[3][1].startswith("pipe:"), inherited


def test_a_normal_restore_leaves_no_janitor_behind(repo: Path, store_dir: Path) -> None:
    install(repo)
    (repo / "a").write_bytes(b"snapshot a\n")
    (repo / "huge").write_bytes(os.urandom(5_000_000))  # a temp name: the careful way
    gs(repo, "create")
    (repo / "a").write_bytes(b"edited\n")
    (repo / "huge").write_bytes(b"edited\n")
    ran = gs(repo, "restore", "1")  # its output read to the end
    assert "restored" in ran.out + ran.err, ran
    wait_gone(store_dir)  # the janitor, told the run ended, ends on its own
    assert (repo / "a").read_bytes() == b"snapshot a\n"
    assert not [n for n in os.listdir(repo) if n.startswith(TMP)]
    assert records(store_dir) == set()
    run = leftovers.Run(str(store_dir))  # the same in this process: reaped by close
    janitor = run.janitor
    assert janitor > 0
    run.close()
    # no child of this process left: a zombie until the next run, and a caller's wait()
    # collected it (CI at 5822991: a test's waitpid(-1) in the same worker did)
    assert janitor not in leftovers._ENDING
    with pytest.raises(ChildProcessError):
        os.waitpid(janitor, os.WNOHANG)


def test_a_killed_exports_janitor_removes_its_temp_file(
    store: Store, store_dir: Path, tmp_path: Path
) -> None:
    """Export names its archive's temp file beside FILE for the whole write: a kill there
    left it until the next export to that folder (or gc)."""
    src, out = tmp_path / "src", tmp_path / "out"
    build(src, D({b"a": F(b"a" * 1000), b"b": F(b"b" * 1000)}))
    take(store, "s", src)
    out.mkdir()
    killer = EXPORT_KILLER.replace(NO_JANITOR, "")
    res = subprocess.run(
        [sys.executable, "-c", killer, str(store_dir), str(out / "snap.tar")],
        capture_output=True,
    )
    assert res.returncode == -signal.SIGKILL, res.stderr
    wait_gone(store_dir)
    assert os.listdir(out) == []
    assert records(store_dir) == set()
