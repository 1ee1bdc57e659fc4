"""review39 RF3: the auto-push pusher took a hook snapshot's pending mark (renamed and deleted
it) *before* pushing and put it back only when the push returned an error. A pusher killed
mid-push (the laptop shut down, the OOM killer) or ended by an exception there (a full disk
writing its state) lost the mark: ``remote list`` then said nothing was waiting, while the
newest snapshot had never reached the remote. A mark is dropped only once a push that covers
it succeeded."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from git_snapshot.store.remote import auto

_PUSHER = """
import sys, time
from git_snapshot.store.remote import auto

def push_once():
    time.sleep(60)  # a long push: killed meanwhile
    return None

auto.run(sys.argv[1], "nas", push_once)
"""


def test_a_pusher_killed_mid_push_leaves_the_snapshot_pending(tmp_path: Path) -> None:
    store = str(tmp_path / "store")
    os.makedirs(os.path.join(store, "remote-state"))
    auto._mark(store, "nas")  # a hook snapshot
    proc = subprocess.Popen([sys.executable, "-c", _PUSHER, store])
    try:
        deadline = time.monotonic() + 30
        while auto.read_state(store, "nas").get("phase") != "pushing":
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert auto.pending(store, "nas") == 1


def test_an_exception_after_a_failed_push_leaves_the_snapshot_pending(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = str(tmp_path / "store")
    os.makedirs(os.path.join(store, "remote-state"))
    auto._mark(store, "nas")

    def full(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(auto, "finished", full)
    with pytest.raises(OSError):
        auto.run(store, "nas", lambda: "the disk is unplugged")
    assert auto.pending(store, "nas") == 1


def test_a_mark_made_during_a_push_is_pushed_by_the_next(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(auto, "INTERVAL_S", 0.0)  # (the minute's rate limit)
    store = str(tmp_path / "store")
    os.makedirs(os.path.join(store, "remote-state"))
    auto._mark(store, "nas", 2)
    pushes = []

    def push_once() -> None:
        pushes.append(1)
        if len(pushes) == 1:
            auto._mark(store, "nas")  # a hook snapshot while the push runs
        return None

    auto.run(store, "nas", push_once)
    assert auto.pending(store, "nas") == 0
    assert len(pushes) == 2, pushes
