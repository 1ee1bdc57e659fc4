"""Prune = retention (store/retention.py: which snapshots to forget) + garbage collection
(store/gc.py: reclaiming their space). The names callers import from here."""

from __future__ import annotations

from git_snapshot.store.gc import GcPlan
from git_snapshot.store.gc import GcReport
from git_snapshot.store.gc import gc
from git_snapshot.store.gc import preview
from git_snapshot.store.gc import sweep_leftovers
from git_snapshot.store.retention import Policy
from git_snapshot.store.retention import forget_auto
from git_snapshot.store.retention import forget_by_policy
from git_snapshot.store.retention import parse_duration

__all__ = [
    "GcPlan",
    "GcReport",
    "Policy",
    "forget_auto",
    "forget_by_policy",
    "gc",
    "parse_duration",
    "preview",
    "sweep_leftovers",
]
