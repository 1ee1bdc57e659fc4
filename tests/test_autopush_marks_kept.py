"""The background pusher drops the pending marks its push covered, and keeps those hooks made
meanwhile. It moved the marks file aside, then wrote the later marks back: a pusher killed
between the two lost every mark (the snapshots waited for the next hook's push), and a hook
whose append landed in the moved-aside file after its count lost its own. The marks are now
rewritten whole (a new file renamed over the old) under a lock the hooks' appends take too:
a kill leaves the old file, every mark in it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from git_snapshot.store.remote import auto


class Killed(BaseException):
    """A kill at that point (nothing after it runs)."""


def _die(*_args: object, **_kwargs: object) -> None:
    raise Killed


def test_a_drop_killed_half_way_keeps_every_mark(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    os.makedirs(tmp_path / "remote-state")
    auto._mark(str(tmp_path), "nas", 2)  # covered by the push that just ended
    auto._mark(str(tmp_path), "nas", 3)  # made by hooks during it
    with monkeypatch.context() as m:  # the write-back dies, whichever way it is written
        m.setattr(auto, "_mark", _die)
        m.setattr(auto, "atomic_write", _die)
        with pytest.raises(Killed):
            auto._drop(str(tmp_path), "nas", 2)
    assert auto.pending(str(tmp_path), "nas") >= 3  # (5: one push too many, nothing lost)


def test_a_drop_keeps_the_marks_made_during_the_push(tmp_path: Path) -> None:
    os.makedirs(tmp_path / "remote-state")
    auto._mark(str(tmp_path), "nas", 2)
    auto._mark(str(tmp_path), "nas", 3)
    auto._drop(str(tmp_path), "nas", 2)
    assert auto.pending(str(tmp_path), "nas") == 3
    auto._drop(str(tmp_path), "nas", 3)
    assert auto.pending(str(tmp_path), "nas") == 0
    auto._drop(str(tmp_path), "nas", 1)  # (none left: nothing to do)
    assert auto.pending(str(tmp_path), "nas") == 0
