"""``show``, ``list`` and ``diff``: what they say about snapshots, in text and JSON, with real
git deciding what is tracked, untracked and ignored."""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from clihelpers import git
from clihelpers import gs
from conftest import init_repo
from test_cli_helpers import NON_UTF8
from test_cli_helpers import snap_id
from test_cli_helpers import write

from git_snapshot.cli import main

LIST_FIELDS = {
    "id": int,
    "created": str,
    "trigger": str,
    "message": str,
    "worktree": str,
    "head": str,
    "branch": str,
    "files": int,
    "bytes": int,
    "added_bytes": int,
    "skipped": int,
}


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> Any:
    assert main(list(argv)) == 0
    return json.loads(capsys.readouterr().out)


def test_show_json_gives_every_entry_its_kind(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(repo / ".gitignore", "node_modules/\n.env\n*.log\n")
    write(repo / "committed.txt", "c\n")
    write(repo / "node_modules" / "forced.js", "force-added\n")
    git(repo, "add", ".gitignore", "committed.txt")
    git(repo, "add", "-f", "node_modules/forced.js")
    git(repo, "commit", "-q", "-m", "c")
    write(repo / "README", "unstaged edit\n")
    write(repo / "staged-new.txt", "s\n")
    git(repo, "add", "staged-new.txt")
    write(repo / "untracked.txt", "u\n")
    write(repo / "newdir" / "untracked-deep.txt", "u\n")
    write(repo / "logs" / "app.log", "ignored by pattern\n")
    write(repo / "logs" / "keep.txt", "untracked next to an ignored file\n")
    write(repo / ".env", "S=1\n", 0o600)
    write(repo / "node_modules" / "a" / "index.js", "ignored dir contents\n")
    os.symlink("untracked.txt", repo / "link")
    with open(os.path.join(os.fsencode(repo), NON_UTF8), "wb") as f:
        f.write(b"x")

    sid = snap_id(gs(repo))
    data = run_json(capsys, "-C", str(repo), "show", str(sid), "--json")
    kinds = {e["path"]: e["kind"] for e in data["entries"]}
    assert kinds == {
        ".env": "ignored",
        ".gitignore": "tracked",
        "README": "tracked",
        "caf\udce9": "untracked",  # os.fsdecode(NON_UTF8): its bytes (RED31)
        "committed.txt": "tracked",
        "link": "untracked",
        "logs": "untracked",  # a folder: what it holds (here untracked, ignored)
        "logs/app.log": "ignored",
        "logs/keep.txt": "untracked",
        "newdir": "untracked",
        "newdir/untracked-deep.txt": "untracked",
        "node_modules": "tracked",  # holds a tracked file: not all ignored
        "node_modules/a": "ignored",
        "node_modules/a/index.js": "ignored",
        "node_modules/forced.js": "tracked",
        "staged-new.txt": "tracked",
        "untracked.txt": "untracked",
    }
    by_path = {e["path"]: e for e in data["entries"]}
    assert by_path[".env"]["mode"] == "0600" and by_path[".env"]["type"] == "file"
    assert by_path[".env"]["size"] == 4
    assert by_path["link"]["type"] == "symlink" and by_path["link"]["target"] == "untracked.txt"
    assert by_path["node_modules/a"]["type"] == "dir"
    assert data["id"] == sid and data["files"] == 13 and data["skipped"] == 0

    # the text form says the same
    assert main(["-C", str(repo), "show", "latest"]) == 0
    rows = {line.split()[-1]: line.split()[0] for line in capsys.readouterr().out.splitlines()}
    assert rows[".env"] == "ignored"
    assert rows["staged-new.txt"] == "tracked"
    assert rows["untracked.txt"] == "untracked"


def test_list_json_fields_oldest_first(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(repo / "a.txt", "a" * 1000)
    os.mkfifo(repo / "pipe")
    first = snap_id(gs(repo, "create", "-m", "first one"))
    second = snap_id(gs(repo))  # nothing changed: nothing new to store
    git(repo, "checkout", "-q", "--detach")
    third = snap_id(gs(repo))

    snaps = run_json(capsys, "-C", str(repo), "list", "--json")
    assert [s["id"] for s in snaps] == [first, second, third] == [1, 2, 3]
    head = git(repo, "rev-parse", "HEAD").strip()
    for s in snaps:
        for key, typ in LIST_FIELDS.items():
            if key == "branch" and s["id"] == third:
                continue
            assert isinstance(s[key], typ), (key, s)
        created = datetime.fromisoformat(s["created"])
        assert created.tzinfo is not None
        assert abs(created.timestamp() - datetime.now().timestamp()) < 120
        assert s["trigger"] == "manual"
        assert s["worktree"] == os.path.realpath(repo)
        assert s["head"] == head
        assert s["files"] == 2  # README, a.txt
        assert s["bytes"] == len("hello\n") + 1000
        assert s["skipped"] == 1  # the FIFO
    assert snaps[0]["message"] == "first one" and snaps[1]["message"] == ""
    assert snaps[0]["branch"] == "main" and snaps[2]["branch"] is None
    assert snaps[0]["added_bytes"] > 0 and snaps[1]["added_bytes"] == 0
    times = [datetime.fromisoformat(s["created"]) for s in snaps]
    assert times == sorted(times)

    assert main(["-C", str(repo), "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:3] == ["ID", "CREATED", "TRIGGER"]
    assert [line.split()[0] for line in lines[1:]] == ["1", "2", "3"]
    assert "first one" in lines[1] and "(detached)" in lines[3]


def test_list_of_an_unborn_branch_has_no_head(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    r = init_repo(tmp_path / "fresh")
    write(r / "f.txt", "f\n")
    gs(r)
    (snap,) = run_json(capsys, "-C", str(r), "list", "--json")
    assert snap["head"] is None and snap["branch"] == "main"


def test_list_all_spans_repositories(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = init_repo(tmp_path / "other")
    write(other / "o.txt", "o\n")
    gs(repo)
    gs(other)
    gs(other)

    mine = run_json(capsys, "-C", str(repo), "list", "--json")
    assert [s["worktree"] for s in mine] == [os.path.realpath(repo)]
    everything = run_json(capsys, "-C", str(tmp_path), "list", "--all", "--json")  # no repo here
    assert sorted((s["worktree"], s["id"]) for s in everything) == sorted(
        [(os.path.realpath(repo), 1), (os.path.realpath(other), 1), (os.path.realpath(other), 2)]
    )
    assert main(["-C", str(tmp_path), "list", "--all"]) == 0
    text = capsys.readouterr().out
    assert "WORKTREE" in text and os.path.realpath(other) in text and os.path.realpath(repo) in text


def test_diff_snapshot_against_worktree_and_between_snapshots(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(repo / ".gitignore", ".env\n")
    write(repo / ".env", "S=1\n", 0o600)
    write(repo / "keep.txt", "same\n")
    write(repo / "script.sh", "#!/bin/sh\n", 0o644)
    write(repo / "gone" / "deep.txt", "d\n")
    gs(repo)
    assert main(["-C", str(repo), "diff"]) == 0
    assert "no changes between snapshot 1 and the worktree" in capsys.readouterr().out

    write(repo / "README", "modified, same size?\n")
    (repo / ".env").unlink()
    (repo / "gone" / "deep.txt").unlink()
    (repo / "gone").rmdir()
    write(repo / "new.txt", "added\n")
    (repo / "script.sh").chmod(0o755)
    want = {
        "README": "modified",
        ".env": "deleted",
        "gone": "deleted",
        "gone/deep.txt": "deleted",
        "new.txt": "added",
        "script.sh": "mode",
    }
    got = run_json(capsys, "-C", str(repo), "diff", "--json")
    assert {c["path"]: c["status"] for c in got} == want  # .git never shows up

    assert main(["-C", str(repo), "diff", "latest"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert {"M README", "D .env", "A new.txt", "M script.sh"} <= set(lines)
    assert lines[-1].startswith("snapshot 1 -> the worktree:")

    gs(repo)
    got = run_json(capsys, "-C", str(repo), "diff", "1", "2", "--json")
    assert {c["path"]: c["status"] for c in got} == want
    assert main(["-C", str(repo), "diff", "1", "2"]) == 0
    assert (
        "snapshot 1 -> snapshot 2: 1 added, 3 deleted, 1 modified, 1 mode"
        in capsys.readouterr().out
    )
    assert run_json(capsys, "-C", str(repo), "diff", "2", "--json") == []


def test_diff_sees_a_same_size_edit_with_the_mtime_put_back(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = write(repo / "data.txt", "AAAA\n")
    gs(repo)
    st = f.stat()
    f.write_text("BBBB\n")
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns + 1))
    got = run_json(capsys, "-C", str(repo), "diff", "--json")
    assert [(c["path"], c["status"]) for c in got] == [("data.txt", "modified")]


def test_diff_leaves_out_what_snapshots_leave_out(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    git(repo, "config", "--add", "snapshot.exclude", "*.log")
    git(repo, "config", "--add", "snapshot.exclude", "build/")
    write(repo / "app.log", "excluded\n")
    write(repo / ".cache" / "CACHEDIR.TAG", b"Signature: 8a477f597d28d172789f06886806bc55")
    write(repo / ".cache" / "x", "cached\n")
    os.mkfifo(repo / "fifo")
    gs(repo)
    assert run_json(capsys, "-C", str(repo), "diff", "--json") == []

    write(repo / "other.log", "excluded\n")
    write(repo / "newdir" / "build" / "x.o", "excluded, below an excluded dir\n")
    write(repo / "newdir" / "deep" / "more.log", "excluded\n")
    write(repo / "newdir" / "keep.txt", "a change\n")
    write(repo / ".cache" / "y", "cached\n")
    os.mkfifo(repo / "newdir" / "fifo")
    got = run_json(capsys, "-C", str(repo), "diff", "--json")
    assert [(c["path"], c["status"]) for c in got] == [
        ("newdir", "added"),
        ("newdir/deep", "added"),
        ("newdir/keep.txt", "added"),
    ]
