"""RED39 F7: ``snapshot.autoPush`` naming a remote that does not exist (``NAS`` for ``nas``)
was reported nowhere: hooks went on, ``remote list`` showed the real remote as "never
auto-pushed" and ``doctor`` said nothing, so the user believed the snapshots left the machine.
Both now name the value, the remotes there are and the failing push's last error."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from conftest import init_repo


@pytest.fixture(autouse=True)
def _config_home(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(Path(os.environ["HOME"]) / "config"))


def _repo_pushing_to(tmp_path: Path, auto_push: str) -> Path:
    repo = init_repo(tmp_path / "proj")
    (repo / "a").write_text("a\n")
    git(repo, "add", "a")
    git(repo, "commit", "-qm", "a")
    gs(repo, "install")
    gs(repo, "remote", "add", "nas", f"file://{tmp_path}/remote")
    git(repo, "config", "snapshot.autoPush", auto_push)
    return repo


def test_an_auto_push_to_no_remote_is_named_by_remote_list_and_doctor(tmp_path: Path) -> None:
    repo = _repo_pushing_to(tmp_path, "NAS")
    (repo / ".env").write_text("SECRET=1\n")
    git(repo, "checkout", "-qb", "b1")  # a hook snapshot: its background push fails
    deadline = time.monotonic() + 30
    while "no remote called" not in gs(repo, "remote", "list").err:
        assert time.monotonic() < deadline, gs(repo, "remote", "list").err
        time.sleep(0.2)
    listed = gs(repo, "remote", "list")
    said = listed.err
    assert "snapshot.autoPush" in said and "'NAS'" in said and "nas" in said, said
    assert "not pushed" in said, said
    doctor = gs(repo, "doctor", rc=1)
    lines = [ln for ln in doctor.out.splitlines() if ln.startswith("auto-push:")]
    assert len(lines) == 1 and "'NAS'" in lines[0] and "nas" in lines[0], doctor.out
    _stop_pusher("NAS")


def _stop_pusher(name: str) -> None:
    """End the background pusher this test's hook started (it retries for hours)."""
    from git_snapshot.store.remote import auto

    store = os.environ["GIT_SNAPSHOT_STORE"]
    pid = auto.read_state(store, name).get("pid")
    if isinstance(pid, int) and auto.running(store, name):
        os.kill(pid, signal.SIGTERM)


def test_a_working_auto_push_is_a_quiet_doctor_line(tmp_path: Path) -> None:
    repo = _repo_pushing_to(tmp_path, "nas")
    listed = gs(repo, "remote", "list")
    assert listed.err == "", listed.err
    doctor = gs(repo, "doctor")
    lines = [ln for ln in doctor.out.splitlines() if ln.startswith("auto-push:")]
    assert len(lines) == 1 and "to nas" in lines[0], doctor.out
