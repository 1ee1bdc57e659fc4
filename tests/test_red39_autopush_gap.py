"""RED39 F4: ``snapshot.autoPush`` left the last snapshots unpushed until some later hook. A
hook snapshot within a minute of the last auto-push started nothing (the rate limit) and a
failed push was "retried in N s" by nobody: with no further git command (the laptop left idle,
then lost), the newest snapshot never left the machine, and ``remote list`` said nothing was
pending. Now the hook marks its snapshot pending and a background pusher waits out the minute
or the back-off itself, then pushes what is pending."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from conftest import init_repo

from git_snapshot.store.remote import auto

pytestmark = pytest.mark.slow

# The rate limit's "minute" (and so the back-off, 1, 2, 4 ... of it) in every Python process
# of the test (PYTHONPATH: the hooks, the pusher they start): the real 60 s made each case
# wait 70-100 s. A snapshot is still taken within it and pushed only once it has passed.
INTERVAL_S = 15.0
_SITE = f"""
from git_snapshot.store.remote import auto

auto.INTERVAL_S = {INTERVAL_S}
"""


@pytest.fixture(autouse=True)
def _config_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(Path(os.environ["HOME"]) / "config"))
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(_SITE)
    monkeypatch.setenv("PYTHONPATH", str(site))


def _repo(tmp_path: Path, remote: Path) -> Path:
    repo = init_repo(tmp_path / "proj")
    (repo / "a").write_text("a\n")
    git(repo, "add", "a")
    git(repo, "commit", "-qm", "a")
    gs(repo, "install")
    gs(repo, "remote", "add", "nas", f"file://{remote}")
    git(repo, "config", "snapshot.autoPush", "nas")
    return repo


def _on_remote(remote: Path) -> int:
    return len(list((remote / "snapshots").glob("*")))


def _wait(what: str, until: float, done: object) -> None:
    while not done():  # type: ignore[operator]
        assert time.monotonic() < until, what
        time.sleep(0.5)


def test_a_snapshot_within_the_minute_after_a_push_gets_pushed(tmp_path: Path) -> None:
    remote = tmp_path / "remote"
    repo = _repo(tmp_path, remote)
    git(repo, "checkout", "-qb", "b1")  # hook snapshot 1: a background push
    _wait("snapshot 1 pushed", time.monotonic() + 60, lambda: _on_remote(remote) == 1)
    _wait(
        "push 1 finished",
        time.monotonic() + 30,
        lambda: "last pushed" in gs(repo, "remote", "list"),
    )
    (repo / ".env").write_text("SECRET=newest\n")
    git(repo, "checkout", "-qb", "b2")  # hook snapshot 2, within the minute: rate-limited
    listed = gs(repo, "remote", "list")
    assert "1 hook snapshot(s) not pushed yet" in listed, listed
    last_ok = auto.read_state(os.environ["GIT_SNAPSHOT_STORE"], "nas")["last_ok"]
    assert time.time() - last_ok < INTERVAL_S  # (snapshot 2 was within the minute)
    # no git command from here: the pusher waits out the minute itself
    _wait(gs(repo, "remote", "list"), time.monotonic() + 120, lambda: _on_remote(remote) == 2)
    ids = [s["id"] for s in json.loads(gs(repo, "list", "--remote", "nas", "--json"))]
    assert ids == [1, 2], ids
    _wait(
        "state", time.monotonic() + 30, lambda: "not pushed yet" not in gs(repo, "remote", "list")
    )


def test_a_failed_auto_push_is_retried_without_another_hook(tmp_path: Path) -> None:
    usb = tmp_path / "usb"
    remote = usb / "remote"
    repo = _repo(tmp_path, remote)
    usb.rename(tmp_path / "usb.unplugged")  # the disk is unplugged
    (repo / ".env").write_text("SECRET=1\n")
    git(repo, "checkout", "-qb", "b1")  # hook snapshot 1: its push fails
    _wait(
        "the push failed",
        time.monotonic() + 60,
        lambda: "last try failed" in gs(repo, "remote", "list"),
    )
    listed = gs(repo, "remote", "list")
    assert "1 hook snapshot(s) not pushed yet" in listed, listed
    shutil.rmtree(usb, ignore_errors=True)  # (what the failed push made there)
    (tmp_path / "usb.unplugged").rename(usb)  # plugged back in; no git command from here
    _wait(gs(repo, "remote", "list"), time.monotonic() + 150, lambda: _on_remote(remote) == 1)
    _wait("state", time.monotonic() + 30, lambda: "last pushed" in gs(repo, "remote", "list"))
    listed = gs(repo, "remote", "list")
    assert "last try failed" not in listed and "not pushed yet" not in listed, listed
