"""RED39 F2: with the remote cache on ephemeral storage (``~/.cache`` on a tmpfs, a common
setup, or XDG_CACHE_HOME under /tmp), push, pull and every ``--remote`` read were refused as
a store "lost on reboot", with advice about GIT_SNAPSHOT_STORE, which was set to a persistent
folder all along: nothing could be recovered from the remote, nor sent to it. The cache is
disposable (fetched again when lost), so the refusal of ephemeral stores no longer applies
to it; the local store is still judged as before.

The store stands on a persistent disk here by a patched ephemeral_reason that exempts it
(tmp_path is under /tmp); the cache, under tmp_path too, is judged for real."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import committed_repo
from remotehelpers import machine
from remotehelpers import on

pytestmark = pytest.mark.slow

CLI = r"""
import os, sys
from git_snapshot.store import location
real = location.ephemeral_reason
kept = os.environ["PERSISTENT"]
location.ephemeral_reason = lambda p: None if os.path.realpath(p).startswith(kept) else real(p)
from git_snapshot.cli import main
sys.exit(main(sys.argv[1:]))
"""


def _cli(env: dict[str, str], tmp: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    script = tmp / "cli.py"
    script.write_text(CLI)
    kept = env.get("PERSISTENT") or os.path.realpath(env["GIT_SNAPSHOT_STORE"])
    full = {**os.environ, **env, "PERSISTENT": kept}
    full.pop("GIT_SNAPSHOT_ALLOW_EPHEMERAL", None)
    return subprocess.run(
        [sys.executable, str(script), *args], cwd=cwd, env=full, capture_output=True, text=True
    )


def test_a_cache_on_ephemeral_storage_is_used_not_refused(tmp_path: Path) -> None:
    repo = committed_repo(tmp_path / "proj")
    url = f"file://{tmp_path}/remote"
    lap = machine(tmp_path, "lap")
    on(lap, repo, "remote", "add", "nas", url)
    (repo / ".env").write_text("SECRET=1\n")
    on(lap, repo, "-m", "s1")
    r = _cli(lap, tmp_path, repo, "push", "nas")
    assert r.returncode == 0 and "pushed 1 snapshot" in r.stdout, r.stdout + r.stderr
    key = Path(lap["XDG_CONFIG_HOME"]) / "git-snapshot" / "keys" / "nas.key"
    new = machine(tmp_path, "new")
    on(new, tmp_path, "remote", "add", "nas", url, "--key", str(key))
    r = _cli(new, tmp_path, tmp_path, "list", "--remote", "nas", "--all")
    assert r.returncode == 0 and "s1" in r.stdout, r.stdout + r.stderr
    out = tmp_path / "rescued"
    args = ("restore", "--remote", "nas", "--repo", "proj", "1", "--to", str(out))
    r = _cli(new, tmp_path, tmp_path, *args)
    assert r.returncode == 0, r.stdout + r.stderr
    assert (out / ".env").read_text() == "SECRET=1\n"
    r = _cli(new, tmp_path, tmp_path, "pull", "nas")
    assert r.returncode == 0 and "pulled 1 snapshot" in r.stdout, r.stdout + r.stderr
    # the local store is still judged: one under /tmp is refused as before
    elsewhere = {**new, "GIT_SNAPSHOT_STORE": str(tmp_path / "tmpstore")}
    r = _cli({**elsewhere, "PERSISTENT": "/nowhere"}, tmp_path, tmp_path, "pull", "nas")
    assert r.returncode != 0 and "refusing to keep snapshots" in r.stderr, r.stderr
