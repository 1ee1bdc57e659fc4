"""A hook writes its dirty-set sync token as soon as it knows a daemon watches
(dirtyset.sync_start), so the daemon answers while the hook imports and opens the store; the
sync then uses that token, and a token no sync used is removed."""

from __future__ import annotations

import os
from pathlib import Path

from git_snapshot.store import Store
from git_snapshot.watch import dirtyset


def _tokens(store: str) -> list[str]:
    return sorted(
        n for n in os.listdir(dirtyset.watch_dir(store)) if n.endswith(dirtyset.SYNC_SUFFIX)
    )


def test_sync_uses_the_token_written_early(tmp_path: Path) -> None:
    wt = str(tmp_path)
    with Store() as store:
        dirtyset.watching(store.path, wt)
        dirtyset.sync_start(store.path, wt)
        dirtyset.sync_start(store.path, wt)  # once per worktree
        early = _tokens(store.path)
        assert len(early) == 1
        # the daemon answers it before the hook asks (as it does while the hook imports)
        dirtyset.synced(store.path, os.path.join(dirtyset.watch_dir(store.path), early[0]))
        # a sync that wrote a token of its own would wait for an answer nobody gives
        assert dirtyset.sync(store.path, wt, timeout=0.05)
        assert _tokens(store.path) == []
        assert not dirtyset.sync(store.path, wt, timeout=0.05)  # the next one is fresh
        assert _tokens(store.path) == []


def test_an_unused_early_token_is_removed(tmp_path: Path) -> None:
    wt = str(tmp_path)
    with Store() as store:
        dirtyset.watching(store.path, wt)
        dirtyset.sync_start(store.path, wt)
        assert len(_tokens(store.path)) == 1
        dirtyset.sync_abandon()
        assert _tokens(store.path) == []
        dirtyset.sync_abandon()  # nothing left: nothing to do
