"""Finding and reading old versions from the command line, against real stores and real git:
log, cat, find, show PATH, diff filters and formats, ID forms, restore --newest, forget,
stats, list -n/--since, prune --keep-hourly/daily/weekly, and --json where scripts read."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from test_cli_helpers import query
from test_cli_helpers import snap_id
from test_cli_helpers import write

from git_snapshot.store import Store

BINARY = bytes(range(256)) * 64 + b"\0tail"


@pytest.fixture
def history(repo: Path) -> tuple[Path, list[int]]:
    """notes.txt: v1, v2, v2, gone, v3 in five snapshots; a binary file and a folder beside."""
    write(repo / "bin" / "blob.dat", BINARY)
    write(repo / "docs" / "guide.md", "guide\n")
    ids = []
    for content in ("v1\n", "v2\n", "v2\n", None, "v3\nmore\n"):
        if content is None:
            (repo / "notes.txt").unlink()
        else:
            write(repo / "notes.txt", content)
        ids.append(snap_id(gs(repo)))
    return repo, ids


def test_log_lists_only_the_snapshots_where_the_file_changed(
    history: tuple[Path, list[int]],
) -> None:
    repo, ids = history
    got = query(repo, "log", "notes.txt")
    assert [(v["id"], v["status"]) for v in got] == [
        (ids[0], "appeared"),
        (ids[1], "changed"),
        (ids[3], "vanished"),
        (ids[4], "appeared"),
    ]
    assert got[1]["content"] == hashlib.sha256(b"v2\n").hexdigest()
    assert got[4 - 1]["size"] == len("v3\nmore\n")
    text = gs(repo, "log", "notes.txt").out
    assert hashlib.sha256(b"v1\n").hexdigest()[:12] in text
    assert "vanished" in text
    # a folder; PATH relative to the current directory, as in git
    assert [v["files"] for v in query(repo / "docs", "log", ".")] == [1]
    bad = gs(repo, "log", "never-was.txt", rc=1)
    assert "in none of the 5 snapshot(s)" in bad.err and "git snapshot find" in bad.err


def test_cat_prints_the_exact_bytes_of_any_version(history: tuple[Path, list[int]]) -> None:
    repo, ids = history
    assert gs(repo, "cat", str(ids[0]), "notes.txt").out == "v1\n"
    raw = subprocess.run(
        [sys.executable, "-m", "git_snapshot", "cat", "latest", "bin/blob.dat"],
        cwd=repo,
        capture_output=True,
        check=True,
    )
    assert raw.stdout == BINARY
    assert gs(repo, "cat", "latest~3", "notes.txt").out == "v2\n"
    missing = gs(repo, "cat", str(ids[3]), "notes.txt", rc=1)
    assert missing.err.count("\n") == 1 and "not in snapshot" in missing.err
    folder = gs(repo, "cat", "latest", "docs", rc=1)
    assert "is a folder" in folder.err


def test_cat_of_damaged_content_is_one_line_and_no_bytes(
    history: tuple[Path, list[int]], store_dir: Path
) -> None:
    repo, _ = history
    with Store(store_dir) as store:  # flip a byte in the middle of the file's stored data
        loc = store.index.locate(hashlib.sha256(BINARY).digest())
        assert loc is not None
        pack = Path(store.pack_path(loc.pack))
    data = bytearray(pack.read_bytes())
    data[loc.offset + loc.length // 2] ^= 0xFF
    pack.write_bytes(bytes(data))
    bad = gs(repo, "cat", "latest", "bin/blob.dat", rc=1)
    assert bad.out == ""  # not a byte of the damaged content
    assert len(bad.err_lines) == 1 and "damaged" in bad.err


def test_find_groups_snapshots_by_content(history: tuple[Path, list[int]], tmp_path: Path) -> None:
    repo, ids = history
    got = query(repo, "find", "*.txt")
    assert [(r["path"], r["snapshots"]) for r in got] == [
        ("notes.txt", [ids[0]]),
        ("notes.txt", [ids[1], ids[2]]),
        ("notes.txt", [ids[4]]),
    ]
    assert got[1]["size"] == 3 and got[1]["first"] <= got[1]["last"]
    assert [r["path"] for r in query(repo, "find", "docs/*")] == ["docs/guide.md"]
    assert query(repo, "find", "guide.md")[0]["snapshots"] == ids  # basename, any folder
    assert query(repo, "find", "nothing*") == []
    other = tmp_path / "other"
    other.mkdir()
    git(other, "init", "-q")
    write(other / "notes.txt", "elsewhere\n")
    gs(other)
    assert len(query(repo, "find", "notes.txt")) == 3
    everywhere = query(repo, "find", "notes.txt", "--all")
    assert len(everywhere) == 4 and {r["repo"] for r in everywhere} == {"repo", "other"}
    text = gs(repo, "find", "*.txt").out
    assert f"{ids[1]}-{ids[2]}" in text


def test_show_filters_to_paths(history: tuple[Path, list[int]]) -> None:
    repo, _ = history
    entries = query(repo, "show", "latest", "docs", "notes.txt")["entries"]
    assert [e["path"] for e in entries] == ["docs", "docs/guide.md", "notes.txt"]
    assert "nope" in gs(repo, "show", "latest", "nope", rc=1).err


def test_diff_paths_stat_patch_exit_code(history: tuple[Path, list[int]]) -> None:
    repo, ids = history
    write(repo / "notes.txt", "v3\nedited\n")
    write(repo / "docs" / "guide.md", "guide, changed\n")
    assert [c["path"] for c in query(repo, "diff")] == ["docs/guide.md", "notes.txt"]
    assert [c["path"] for c in query(repo, "diff", "notes.txt")] == ["notes.txt"]
    assert [c["path"] for c in query(repo / "docs", "diff", ".")] == ["docs/guide.md"]
    between = query(repo, "diff", str(ids[0]), str(ids[1]), "notes.txt")
    assert between[0]["status"] == "modified"
    assert between[0]["old"]["content"] == hashlib.sha256(b"v1\n").hexdigest()
    stat = query(repo, "diff", "--stat", "notes.txt")
    assert stat == [
        {
            "path": "notes.txt",
            "status": "modified",
            "binary": False,
            "added_lines": 1,
            "deleted_lines": 1,
            "old_size": 8,
            "new_size": 10,
        }
    ]
    patch = gs(repo, "diff", "-p", "notes.txt").out
    assert gs(repo, "diff", "latest", "-p", "--", "notes.txt").out == patch  # options anywhere
    only = json.loads(gs(repo, "diff", str(ids[4]), "--json", "--", "docs").out)
    assert [c["path"] for c in only] == ["docs/guide.md"]
    assert "--- a/notes.txt\n+++ b/notes.txt\n" in patch and "-more\n+edited\n" in patch
    assert "2 files changed, 2 insertions(+), 2 deletions(-)" in gs(repo, "diff", "--stat").out
    write(repo / "bin" / "blob.dat", BINARY + b"x")
    assert "Binary files" in gs(repo, "diff", "-p", "bin/blob.dat").out
    assert gs(repo, "diff", "--exit-code", rc=1).rc == 1
    assert gs(repo, "diff", "--exit-code", str(ids[1]), str(ids[2])).rc == 0


def test_dates_as_ids_and_restore_newest(repo: Path) -> None:
    write(repo / "a.txt", "old\n")
    first = snap_id(gs(repo))
    time.sleep(1.2)
    between = time.strftime("%Y-%m-%d %H:%M:%S")
    time.sleep(1.2)
    write(repo / "a.txt", "new\n")
    snap_id(gs(repo))
    assert gs(repo, "cat", f"@{{{between}}}", "a.txt").out == "old\n"
    assert gs(repo, "cat", "@{now}", "a.txt").out == "new\n"
    early = gs(repo, "cat", "@{2001-01-01}", "a.txt", rc=1)
    assert f"the oldest is snapshot {first}" in early.err
    assert "cannot read the date" in gs(repo, "cat", "@{someday soon}", "a.txt", rc=2).err
    (repo / "a.txt").unlink()
    snap_id(gs(repo))  # the newest snapshot no longer holds a.txt
    done = query(repo, "restore", "--newest", "a.txt")
    assert done["created"] == ["a.txt"] and done["pre_restore"] is not None
    assert (repo / "a.txt").read_text() == "new\n"


def test_forget_drops_chosen_snapshots_and_repair_keeps_them_gone(
    history: tuple[Path, list[int]],
) -> None:
    repo, ids = history
    dry = query(repo, "forget", str(ids[1]), "--dry-run")
    assert [s["id"] for s in dry["forgotten"]] == [ids[1]] and dry["dry_run"]
    assert len(query(repo, "list")) == 5
    gs(repo, "forget", str(ids[1]), str(ids[2]))
    left = [s["id"] for s in query(repo, "list")]
    assert left == [ids[0], ids[3], ids[4]]
    held = [i for r in query(repo, "find", "notes.txt") for i in r["snapshots"]]
    assert held == [ids[0], ids[4]]
    gs(repo, "prune", "--keep-last", "100")  # gc reclaims the space
    assert gs(repo, "cat", str(ids[1]), "notes.txt", rc=1).rc == 1


def test_stats_counts_repositories_and_dedup(history: tuple[Path, list[int]]) -> None:
    repo, _ = history
    data = query(repo, "stats")
    assert data["snapshots"] == 5
    (mine,) = data["repositories"]
    assert mine["snapshots"] == 5 and mine["worktree"] == str(repo)
    assert mine["logical_bytes"] == sum(s["bytes"] for s in query(repo, "list"))
    assert data["dedup_ratio"] == round(data["logical_bytes"] / data["pack_bytes"], 2)
    assert data["disk_bytes"] >= data["pack_bytes"] > 0
    assert "dedup ratio" in gs(repo, "stats").out


def test_list_newest_n_and_since(history: tuple[Path, list[int]]) -> None:
    repo, ids = history
    assert [s["id"] for s in query(repo, "list", "-n", "2")] == ids[-2:]
    assert query(repo, "list", "-n", "0") == []
    assert [s["id"] for s in query(repo, "list", "--since", "1.hour.ago")] == ids
    assert query(repo, "list", "--since", "2099-01-01") == []


def test_prune_keep_daily_json_and_git_durations(history: tuple[Path, list[int]]) -> None:
    repo, ids = history
    plan = query(repo, "prune", "--keep-daily", "1", "--dry-run")
    assert [s["id"] for s in plan["forgotten"]] == ids[:-1]  # all taken today: the newest
    assert query(repo, "prune", "--keep-within", "2.weeks.ago", "--dry-run")["forgotten"] == []
    git(repo, "config", "snapshot.keepHourly", "2")
    git(repo, "config", "snapshot.keepLast", "1")
    git(repo, "config", "snapshot.keepWithin", "1.second.ago")
    time.sleep(2.1)  # git's dates are whole seconds
    # keepHourly 2 keeps the newest of each of the last two hours that have snapshots: one
    # snapshot, or two if the history crossed an hour boundary (it did in CI at 17:00)
    hours: dict[str, int] = {}
    for s in query(repo, "list"):
        hours[s["created"][:13]] = s["id"]  # oldest first: the last one seen is the newest
    done = query(repo, "prune")
    assert {s["id"] for s in done["forgotten"]} == set(ids) - set(list(hours.values())[-2:])
    assert done["dry_run"] is False
    assert "bad duration" in gs(repo, "prune", "--keep-within", "soonish", rc=2).err


def test_verify_and_run_json(history: tuple[Path, list[int]]) -> None:
    repo, _ = history
    report = query(repo, "verify", "--read-data")
    assert report["ok"] is True and report["snapshots"] == 5 and report["problems"] == []
    ran = gs(repo, "run", "--json", "--", "rm", "notes.txt")
    data = json.loads(ran.out)
    assert data["exit_code"] == 0
    assert [x["path"] for x in data["losses"]["lost"]] == ["notes.txt"]
