"""The reliability campaign (docs/RELIABILITY.md) with CI-sized counts: kills at write
syscalls, concurrency over linked worktrees, damage, hostile records, a stateful model, a full
disk. ``bench/reliability.py`` runs the same scenarios with larger counts and writes the doc."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from reliabilityhelpers import DAMAGE_KINDS
from reliabilityhelpers import Result
from reliabilityhelpers import concurrency
from reliabilityhelpers import damage
from reliabilityhelpers import full_disk
from reliabilityhelpers import hostile
from reliabilityhelpers import kill_campaign
from reliabilityhelpers import stateful

pytestmark = pytest.mark.slow

# CI-sized: the whole campaign stays within a few minutes on 2 cores
KILLS = {"snapshot": 10, "restore": 10, "prune": 8, "repair": 8}
needs_strace = pytest.mark.skipif(shutil.which("strace") is None, reason="strace is not installed")


def _passed(result: Result) -> None:
    assert not result.skipped, result.skipped
    assert result.checks.problems == [], "\n".join(result.checks.problems)
    assert result.checks.lost == 0
    assert result.checks.count > 0


@needs_strace
@pytest.mark.parametrize("command", ["snapshot", "restore", "prune"])
def test_sigkill_at_write_syscalls_loses_nothing(command: str, tmp_path: Path) -> None:
    result = kill_campaign(tmp_path, command, KILLS[command])
    _passed(result)
    assert result.figures.split()[0] != "0", "no run was actually killed"


@needs_strace
def test_sigkill_during_repair_loses_nothing(tmp_path: Path) -> None:
    _passed(kill_campaign(tmp_path, "repair", KILLS["repair"]))


def test_eight_processes_over_linked_worktrees_with_a_prune_loop(tmp_path: Path) -> None:
    _passed(concurrency(tmp_path, procs=8, rounds=4))


@pytest.mark.parametrize("kind", DAMAGE_KINDS)
def test_damage_is_named_and_intact_data_restores(kind: str, tmp_path: Path) -> None:
    outcome = damage(tmp_path, kind)
    assert outcome.checks.problems == [], "\n".join(outcome.checks.problems)
    assert outcome.checks.lost == 0


def test_hostile_records_write_nothing_outside_the_target_or_into_git(tmp_path: Path) -> None:
    _passed(hostile(tmp_path))


@needs_strace
def test_stateful_model_with_damage(tmp_path: Path) -> None:
    _passed(stateful(tmp_path, examples=6, steps=10, with_damage=True))


def test_full_disk_stops_writes_not_reads(tmp_path: Path) -> None:
    result = full_disk(tmp_path)
    if result.skipped:
        pytest.skip(result.skipped)
    _passed(result)
