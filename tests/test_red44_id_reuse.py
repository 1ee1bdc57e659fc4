"""RED44 F6b: snapshot numbers were given again after `repair` rebuilt a lost index.

The index's `next_seq` is the one place that remembered the highest number a repository's
snapshots ever had. A forget of the newest snapshots, a prune (which drops their records from
the packs) and an index lost and rebuilt by `repair` from the packs alone: repair saw only the
records left, and the next snapshot took a forgotten number again. A restore command printed
earlier (scrollback, a held line, a script) then restored the new snapshot under the old
number: another version of the file, silently. Now a forget's tombstone (always live, never
pruned) names the highest number of each repository it forgets, and repair hands out numbers
above those too.

Real git, the hooks installed as a user installs them, the CLI as a user types it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from clihelpers import run
from hookhelpers import env_lost_to_checkout
from hookhelpers import lose_index
from hookhelpers import put_venv_on_path
from hookhelpers import snaps
from hookhelpers import snapshots_of
from hookhelpers import write


def _ids(repo: Path) -> list[int]:
    return [int(s["id"]) for s in snaps(repo)]


def _other_and_all_forgotten(repo: Path, tmp_path: Path) -> Path:
    """Another repository (tmp_path/other) with a snapshot of its own, which keeps the
    store's packs from being empty; *repo*'s two snapshots (x.txt "one", "two") forgotten and
    their records pruned. The other one's worktree."""
    other = tmp_path / "other"
    git(tmp_path, "init", "-q", str(other))
    write(other / "o.txt", b"other\n")
    gs(other, "create")
    snapshots_of(repo, b"one\n", b"two\n")
    gs(repo, "forget", "1", "2")
    gs(repo, "prune")
    return other


def test_a_forgotten_newest_number_is_not_given_again_after_a_repair(
    repo: Path, store_dir: Path
) -> None:
    snapshots_of(repo, b"v1\n", b"v2\n", b"v3\n")
    assert _ids(repo) == [1, 2, 3]
    gs(repo, "forget", "3")
    gs(repo, "prune")
    write(repo / "x.txt", b"v4\n")
    gs(repo, "create")
    assert _ids(repo) == [1, 2, 4]  # (the index remembered 3: never given again)
    gs(repo, "forget", "4")
    gs(repo, "prune")  # the records of 3 and 4 leave the packs
    lose_index(store_dir)
    assert "the old index was missing" in gs(repo, "repair").out
    write(repo / "x.txt", b"v5\n")
    gs(repo, "create")
    assert _ids(repo) == [1, 2, 5]


def test_also_when_every_snapshot_of_the_repository_was_forgotten(
    repo: Path, store_dir: Path, tmp_path: Path
) -> None:
    other = _other_and_all_forgotten(repo, tmp_path)
    lose_index(store_dir)
    gs(repo, "repair")
    write(repo / "x.txt", b"three\n")
    gs(repo, "create")
    assert _ids(repo) == [3]
    assert _ids(other) == [1]


def test_a_printed_restore_command_never_restores_another_snapshot(
    repo: Path, store_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """id_reuse_undo.sh: the report named snapshot 1; after forget, prune, a lost index and
    a repair, a new snapshot took number 1 and the pasted command restored ITS .env."""
    put_venv_on_path(monkeypatch)  # the report's command is run as printed
    report = env_lost_to_checkout(repo, later=0)
    every = [str(i) for i in _ids(repo)]
    gs(repo, "forget", *every)
    gs(repo, "prune")
    lose_index(store_dir)
    gs(repo, "repair")
    write(repo / ".env", b"SOMETHING ELSE ENTIRELY\n")
    gs(repo, "create")
    assert min(_ids(repo)) > max(int(i) for i in every)
    write(repo / ".env", b"TRACKED=1\n")
    ran = run(repo, *report.command, rc=None)
    assert (repo / ".env").read_bytes() == b"TRACKED=1\n", ran
    assert ran.rc != 0, ran


def test_the_tombstone_names_the_numbers_it_forgets(repo: Path, store_dir: Path) -> None:
    """What docs/FORMAT.md says a tombstone holds (read back as repair reads it)."""
    from git_snapshot.store import Store
    from git_snapshot.store.objects import FORGET

    snapshots_of(repo, b"one\n", b"two\n")
    gs(repo, "forget", "1", "2")
    with Store(str(store_dir)) as store:
        (key,) = store.index.keys_of_type(FORGET)
        doc = json.loads(store.read_object(key))
        (source,) = {s for s, _ in store.index.sources()}
        path = dict(store.index.sources())[source]
    assert doc["highest"] == {source: [2, path]}


def test_a_repository_with_no_snapshot_left_keeps_its_numbers_through_a_repair(
    repo: Path, store_dir: Path, tmp_path: Path
) -> None:
    """The old index readable: its source of no snapshot (all forgotten, their records
    pruned) was left out of the rebuilt one, and the next snapshot was number 1 again."""
    _other_and_all_forgotten(repo, tmp_path)
    gs(repo, "repair")  # (the index intact)
    write(repo / "x.txt", b"three\n")
    gs(repo, "create")
    assert _ids(repo) == [3]
