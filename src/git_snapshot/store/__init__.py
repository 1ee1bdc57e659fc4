"""The archiving core: a content-addressed, crash-safe snapshot store. Knows nothing of git."""

from __future__ import annotations

from git_snapshot.store.archiver import Options
from git_snapshot.store.archiver import Result
from git_snapshot.store.archiver import create_snapshot
from git_snapshot.store.core import Store
from git_snapshot.store.index import Snapshot

__all__ = ["Options", "Result", "Snapshot", "Store", "create_snapshot"]
