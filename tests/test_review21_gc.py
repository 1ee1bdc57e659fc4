"""ctx.gc_paused: the one 'collector off for this block' that a walk (archiver), a restore,
diff and find use; it was written four times."""

from __future__ import annotations

import gc

import pytest

from git_snapshot.ctx import gc_paused


@pytest.fixture(autouse=True)
def _as_it_was() -> object:
    was = gc.isenabled()
    gc.unfreeze()  # what an earlier in-process snapshot of this worker froze
    yield None
    gc.unfreeze()
    (gc.enable if was else gc.disable)()


def test_off_inside_and_back_on_after() -> None:
    gc.enable()
    with gc_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0


def test_left_off_when_it_was_off() -> None:
    gc.disable()
    with gc_paused(freeze=True):
        assert not gc.isenabled()
    assert not gc.isenabled()
    assert gc.get_freeze_count() == 0  # nothing frozen when the caller keeps it off


def test_freeze_and_an_exception_passing_through() -> None:
    gc.enable()
    kept: list[list[int]] = [[] for _ in range(100)]
    with pytest.raises(KeyError), gc_paused(freeze=True):
        raise KeyError("x")
    assert gc.isenabled() and gc.get_freeze_count() >= len(kept)
