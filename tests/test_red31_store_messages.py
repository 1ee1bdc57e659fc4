"""RED31: two damaged stores get the line that says what to do, not one that sends the user
away from their snapshots.

- An index garbled so that SQLite's message quotes bytes that are not UTF-8 gave every
  command "internal error: UnicodeDecodeError ... please report it"; now the store's "cannot be
  read ... git snapshot repair" line, as a truncated index gets, and repair brings it back.
- A store whose tmp/ or cache/ is a plain file gave every command, repair included, "cannot
  create the snapshot store ...; set GIT_SNAPSHOT_STORE to a writable directory": now a line
  naming the part that is not a folder, and after moving it aside as said, the store works."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
from clihelpers import gs
from clihelpers import run


def _two_snapshots(repo: Path) -> None:
    for i in range(20):
        (repo / f"f{i}").write_text(f"{i}\n")
    gs(repo)
    (repo / "f1").write_text("edited\n")
    gs(repo)


def test_a_garbled_index_names_repair(repo: Path, store_dir: Path) -> None:
    _two_snapshots(repo)
    index = store_dir / "index.sqlite"
    data = bytearray(index.read_bytes())
    for i in range(200, len(data), 997):
        data[i] ^= 0xFF
    index.write_bytes(bytes(data))
    for argv in (["list"], ["verify"], []):
        err = gs(repo, *argv, rc=1).err
        assert err.count("\n") == 1 and "git snapshot repair" in err, err
    gs(repo, "repair")
    assert len(gs(repo, "list").out.splitlines()) == 3  # the header and both snapshots
    gs(repo, "restore", "1", "f1")
    assert (repo / "f1").read_text() == "1\n"


@pytest.mark.parametrize("part", ["tmp", "cache"])
def test_a_part_that_is_not_a_folder(repo: Path, store_dir: Path, part: str) -> None:
    _two_snapshots(repo)
    target = store_dir / part
    run(repo, "rm", "-rf", str(target))
    target.write_text("not a folder\n")
    for argv in (["list"], ["repair"]):
        err = gs(repo, *argv, rc=1).err
        assert err.count("\n") == 1 and "GIT_SNAPSHOT_STORE" not in err, err
        assert f"its {part} is not a folder" in err, err
    move = err.split("(", 1)[1].split(")", 1)[0]  # the command as printed
    assert move.startswith("mv ")
    run(repo, *shlex.split(move))
    assert len(gs(repo, "list").out.splitlines()) == 3
