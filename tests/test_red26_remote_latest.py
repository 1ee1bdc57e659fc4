"""RED26 (session 26): two machines push the same repository (its folder copied to a new
laptop: the same path and snapshot.repoId). The `--remote` cache enters their snapshots by
number: the old machine's 1, 2, 3 (last week) kept their numbers, the new machine's 1
(today) became 4, and the old 2 and 3 became 5 and 6, above it: `cat --remote r latest`
gave last week's file, `restore --remote r latest` would have put it back. The cache now
enters snapshots in the order they were taken, and one given another number is ordered by
when it was taken (as a pull's are: Index.snapshots, in_time)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from conftest import committed_repo
from remotehelpers import machine
from remotehelpers import on


@pytest.fixture(autouse=True)
def _config_home(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(Path(os.environ["HOME"]) / "config"))


def test_latest_in_the_remote_cache_is_the_newest_of_every_machine(tmp_path: Path) -> None:
    repo = committed_repo(tmp_path / "proj")
    url = f"file://{tmp_path}/remote"
    old = machine(tmp_path, "old-laptop")
    on(old, repo, "remote", "add", "r", url)
    for i in range(3):
        (repo / "notes.txt").write_text(f"last week {i}\n")
        assert f"snapshot {i + 1}:" in on(old, repo, "-m", f"old {i}").out
        time.sleep(0.01)
    on(old, repo, "push")
    key = Path(old["XDG_CONFIG_HOME"]) / "git-snapshot" / "keys" / "r.key"
    (repo / "notes.txt").write_text("last week, pushed late\n")
    assert "snapshot 4:" in on(old, repo, "-m", "late").out  # pushed after the others
    time.sleep(0.01)

    new = machine(tmp_path, "new-laptop")  # the same folder, copied: same path, same id
    on(new, repo, "remote", "add", "r", url, "--key", str(key))
    (repo / "notes.txt").write_text("today\n")
    assert "snapshot 1:" in on(new, repo, "-m", "today").out
    on(new, repo, "push")

    # a third machine (or a new store) that meets both at once
    third = machine(tmp_path, "third")
    on(third, repo, "remote", "add", "r", url, "--key", str(key))
    _newest_is_today(third, repo)
    on(old, repo, "push")  # the old machine's snapshot 4: older than today's, numbered above it
    for m in (third, new, old):
        _newest_is_today(m, repo, ["0", "1", "2", "late", "today"])


def _newest_is_today(m: dict[str, str], repo: Path, order: list[str] | None = None) -> None:
    assert on(m, repo, "cat", "--remote", "r", "latest", "notes.txt").out == "today\n"
    before = "last week 2\n" if order is None else "last week, pushed late\n"
    assert on(m, repo, "cat", "--remote", "r", "latest~1", "notes.txt").out == before
    listed = on(m, repo, "list", "--remote", "r").out
    messages = [line.split()[-1] for line in listed.splitlines()[1:]]
    assert messages == (order or ["0", "1", "2", "today"]), listed
