"""Red team (session 9): a restore killed (SIGKILL) while it writes leaves each file it was
restoring either as it was or as the snapshot has it, never gone or torn, and no temp file of
its own in the user's folder (git showed a leftover '.gsnap-tmp-...' as a new untracked file,
which 'git add .' would commit)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from clihelpers import VENV_BIN
from clihelpers import git
from clihelpers import gs
from storehelpers import wait_gone

FILES = 12
SIZE = 5_000_000  # over restorer.WHOLE: written the careful way (a temp file, then renamed)


def _data(i: int) -> bytes:
    return os.urandom(SIZE // 2) + bytes([i]) * (SIZE - SIZE // 2)


def test_a_killed_restore_leaves_old_or_new_files_and_no_temp_file(
    repo: Path, store_dir: Path
) -> None:
    big = repo / "big"
    big.mkdir()
    new = {f"f{i}": _data(i) for i in range(FILES)}
    for name, data in new.items():
        (big / name).write_bytes(data)
    gs(repo, "create")
    old = {name: b"edited " + name.encode() for name in new}
    for name, data in old.items():
        (big / name).write_bytes(data)
    env = {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    # The kills are spread over the time one restore takes here: a fixed first delay (0.15 s)
    # outlived the whole restore (0.21 s) once the package's .pyc files were there.
    t0 = time.monotonic()
    subprocess.run(["git", "snapshot", "restore", "1", "big"], cwd=repo, env=env, check=True)
    delay = (time.monotonic() - t0) / 8
    for name, data in old.items():  # as it was again
        (big / name).write_bytes(data)
    killed = 0
    while delay < 20:
        proc = subprocess.Popen(
            ["git", "snapshot", "restore", "1", "big"],
            cwd=repo,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        time.sleep(delay)
        done = proc.poll() is not None
        if not done:
            os.killpg(proc.pid, signal.SIGKILL)
            killed += 1
        proc.wait()
        # its writer processes notice and stop, its janitor removes its temp names
        wait_gone(store_dir)
        names = sorted(os.listdir(big))
        assert names == sorted(new), names  # no temp file, nothing gone
        for name in names:
            assert (big / name).read_bytes() in (old[name], new[name]), name
        status = git(repo, "status", "--porcelain", "--ignored", "-uall")
        assert ".gsnap-tmp-" not in status, status
        if done:
            break
        for name, data in old.items():  # as it was again, for the next round
            (big / name).write_bytes(data)
        delay *= 1.3
    assert killed >= 2, killed
    for name, data in new.items():
        assert (big / name).read_bytes() == data, name
