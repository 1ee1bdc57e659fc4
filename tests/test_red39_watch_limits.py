"""RED39 E3, E4: the kernel's inotify limits, as the user reads them.

- E3: with no inotify instance left (fs.inotify.max_user_instances used up by IDEs, file sync
  tools...), the daemon died with "internal error: OSError(24, 'Too many open files') ...
  please report it", `watch` said "started the watcher", and status and doctor advised
  "start it with: git snapshot watch". Now one line names the limit and the sysctl to raise,
  `watch` exits 1 with it, and status and doctor repeat it.
- E4: with watches refused (max_user_watches reached), status said "17 failed watches" and
  nothing of why or what to do; it names the limit and the sysctl now.

The limits are lowered only inside a user namespace (`unshare -U -r`: /proc/sys/user/
max_inotify_* are per namespace), as the red team did."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from clihelpers import VENV_BIN
from clihelpers import gs
from test_watch_daemon import Watcher
from test_watch_daemon import make_repo
from test_watch_daemon import wait_for
from test_watch_daemon import watcher  # noqa: F401  (the fixture)

from git_snapshot.watch import instance


def _userns_ok() -> bool:
    if shutil.which("unshare") is None or not os.path.exists("/proc/sys/fs/inotify"):
        return False
    got = subprocess.run(
        ["unshare", "-U", "-r", "sh", "-c", "echo 5 > /proc/sys/user/max_inotify_instances"],
        capture_output=True,
        check=False,
    )
    return got.returncode == 0


pytestmark = pytest.mark.skipif(not _userns_ok(), reason="needs unshare -U -r (user namespaces)")


def _in_userns(cwd: Path, script: str) -> str:
    """*script* (sh) in a new user namespace, its output (stdout and stderr)."""
    env = {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    got = subprocess.run(
        ["unshare", "-U", "-r", "sh", "-c", script],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        check=False,
    )
    return got.stdout


@pytest.mark.slow
def test_no_inotify_instance_left_is_one_clear_line(
    tmp_path: Path,
    store_dir: Path,
    watcher: Watcher,  # noqa: F811  (stops whatever was started)
) -> None:
    repo = make_repo(tmp_path)
    out = _in_userns(
        repo,
        "echo 0 > /proc/sys/user/max_inotify_instances\n"
        "git snapshot install\n"
        "echo ---; git snapshot watch; echo rc=$?\n"
        "echo ---; git snapshot watch status\n"
        "echo ---; git snapshot doctor\n",
    )
    install, watch, status, doctor = out.split("---\n")
    assert "watching this worktree" not in install, out
    assert "rc=1" in watch, out
    assert "started the watcher" not in watch, out
    for said in (install, watch, status, doctor):
        assert "inotify instance limit" in said, out
        assert "fs.inotify.max_user_instances" in said, out
    assert "start it with: git snapshot watch" not in status, out
    log = (store_dir / "watch" / "daemon.log").read_text()
    assert "internal error" not in log, log
    # and once a watcher runs, the line is gone
    watcher.start()
    assert instance.cannot_run(str(store_dir)) is None
    assert "instance limit" not in gs(repo, "watch", "status").out


@pytest.mark.slow
def test_the_watch_limit_reached_is_named_with_its_sysctl(
    tmp_path: Path,
    store_dir: Path,
    watcher: Watcher,  # noqa: F811
) -> None:
    repo = make_repo(tmp_path)
    for i in range(20):
        (repo / f"pkg{i}").mkdir()
        (repo / f"pkg{i}" / "f.txt").write_text(f"v1 {i}\n")
    # the daemon lives on in the namespace after sh ends (detached); status is read outside
    out = _in_userns(
        repo,
        "echo 10 > /proc/sys/user/max_inotify_watches\n"
        "git snapshot watch add . >/dev/null; echo rc=$?\n",
    )
    assert "rc=0" in out, out
    try:
        wait_for(
            lambda: "polled" in gs(repo, "watch", "status").out,
            what="the watcher to poll what did not fit",
        )
        status = gs(repo, "watch", "status").out
        assert "inotify watch limit" in status, status
        assert "sysctl fs.inotify.max_user_watches=" in status, status
    finally:
        instance.stop(str(store_dir))
