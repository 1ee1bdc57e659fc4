"""RED27 (session 27): `git snapshot diff` against the worktree said nothing of a folder it
could not read. After `chmod 000 d` (or a folder past PATH_MAX, or one that may be listed but
not searched) a diff of a snapshot that held d compared everything else and printed
"snapshot 1 -> the worktree: 1 modified" with d's changed file not among them, nor a word that
d was not looked at: a report that may be untrue. Now each such path is named on one line on
stderr, the JSON on stdout stays the list of what was compared, and `--exit-code` no longer
answers "no changes" about a worktree it could not wholly read.

As tests/test_red26_unsearchable.py: the commands run without the two capabilities that
bypass file permissions (setpriv), as any user would."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from clihelpers import VENV_BIN
from clihelpers import Ran
from clihelpers import gs
from clihelpers import run
from conftest import committed_repo
from storehelpers import take
from test_red26_unsearchable import _prefix

from git_snapshot.store import Store
from git_snapshot.store import diff_levels
from git_snapshot.store.diff import diff_dir


def _as_user(repo: Path, *argv: str, rc: int | None = 0) -> Ran:
    env = {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    return run(repo, *_prefix(), *argv, rc=rc, env=env)


@pytest.fixture
def closed(tmp_path: Path) -> Iterator[Path]:
    """A repository snapshotted once (d/x.txt, e/y.txt, r.txt), then d made mode 000 and
    d/x.txt and r.txt edited."""
    repo = committed_repo(tmp_path / "repo")
    for rel in ("d/x.txt", "e/y.txt", "r.txt"):
        (repo / rel).parent.mkdir(exist_ok=True)
        (repo / rel).write_text(rel + "\n")
    gs(repo, "create")
    (repo / "d" / "x.txt").write_text("edited\n")
    (repo / "r.txt").write_text("edited\n")
    (repo / "d").chmod(0)
    try:
        if os.geteuid() == 0 and not _prefix():
            pytest.skip("root, and no way to drop the permission bypass")
        probe = _as_user(repo, "ls", "d", rc=None) if os.geteuid() == 0 else None
        if probe is not None and probe.rc == 0:
            pytest.skip("permissions are not enforced for the commands here")
        yield repo
    finally:
        (repo / "d").chmod(0o755)


def test_a_diff_names_a_folder_it_could_not_read(closed: Path) -> None:
    repo = closed
    r = _as_user(repo, "git", "snapshot", "diff")
    assert r.rc == 0, r.err
    assert "M r.txt" in r.out and "snapshot 1 -> the worktree: 1 modified" in r.out, r.out
    lines = r.err.splitlines()
    assert len(lines) == 1, r.err
    assert "could not be read" in lines[0] and "d (Permission denied)" in lines[0], r.err
    assert "not compared" in lines[0], r.err


def test_json_stays_the_list_and_exit_code_does_not_say_nothing_changed(closed: Path) -> None:
    repo = closed
    (repo / "r.txt").write_text("r.txt\n")  # as snapshotted: only d is unknown now
    os.utime(repo / "r.txt", ns=(0, 0))  # (its content compared: the same)
    r = _as_user(repo, "git", "snapshot", "diff", "--json", rc=None)
    assert r.rc == 0, r.err
    changes = json.loads(r.out)
    # d's own mode (000 now, 755 held) is a change (RED34 C2); what it holds, not compared
    assert [(c["path"], c["status"]) for c in changes] == [("d", "mode")], changes
    assert "d (Permission denied)" in r.err, r.err
    r = _as_user(repo, "git", "snapshot", "diff", "--exit-code", rc=None)
    assert r.rc == 1, (r.out, r.err)
    assert "M d\n" in r.out and "d (Permission denied)" in r.err, (r.out, r.err)


def _moved_deep(src: Path, length: int) -> bytes:
    """*src* moved below folders of 200-byte names, to a path *length* bytes long (made and
    reached through descriptors); that path."""
    top = os.fsencode(src.parent)
    fd, rel = os.open(top, os.O_RDONLY), b""
    while length - len(top) - len(rel) - 1 > 255:
        os.mkdir(b"p" * 200, dir_fd=fd)
        nfd = os.open(b"p" * 200, os.O_RDONLY, dir_fd=fd)
        os.close(fd)
        fd, rel = nfd, rel + b"p" * 200 + b"/"
    last = b"r" * (length - len(top) - len(rel) - 1)
    os.rename(os.fsencode(src), last, dst_dir_fd=fd)
    os.close(fd)
    return top + b"/" + rel + last


@pytest.mark.parametrize("split", [False, True])
def test_diff_dir_names_what_it_cannot_reach_in_one_process_or_two(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, split: bool
) -> None:
    """diff_dir, in one process or two (SHARE_AT 1: a forked child compares every other
    folder, and its notes would stay in it): each folder held by the snapshot that cannot be
    reached by its path now is named once, by the parent. Reached by path: a tree moved deep,
    so that its folders' paths fit PATH_MAX and their entries' do not (the suite runs as
    root, whom no permission stops)."""
    monkeypatch.setattr(diff_levels, "SHARE_AT", 1)
    src = tmp_path / "src"
    held = []
    for i in range(6):
        deep = src / f"a{i}" / ("n" * 200)
        deep.mkdir(parents=True)
        (deep / "f.txt").write_text(f"{i}\n")
        held.append(f"a{i}/{'n' * 200}".encode())
    with Store(tmp_path / "store") as store:
        snap = take(store, "s", src)
        root = _moved_deep(src, 4000)
        unread: list[tuple[bytes, str]] = []
        changes = diff_dir(store, snap.root, root, split=split, unread=unread)
    assert changes == []
    assert sorted(unread) == [(h, "File name too long") for h in held]


def test_a_diff_says_a_snapshot_left_out_what_it_calls_deleted_or_added(closed: Path) -> None:
    """Snapshot 2, taken while d was unreadable, lacks d: `diff 1 2` names d and d/x.txt
    deleted, and `diff 2` against the worktree (d readable again) names d added. Both now say
    on stderr that snapshot 2 left d out (unreadable), so that no one takes it for a deletion.
    Between two snapshots that both left it out, nothing is said (nothing differs)."""
    repo = closed
    r = _as_user(repo, "git", "snapshot", "create")
    assert "snapshot 2:" in r.out and "d (unreadable: Permission denied)" in r.out, r.out
    r = _as_user(repo, "git", "snapshot", "diff", "1", "2")
    assert "D d/x.txt" in r.out, r.out
    assert "note: snapshot 2 left out d (unreadable: Permission denied)" in r.err, r.err
    assert "snapshot 1 left out" not in r.err, r.err
    _as_user(repo, "git", "snapshot", "create")
    r = _as_user(repo, "git", "snapshot", "diff", "2", "3")
    assert r.err == "", r.err
    (repo / "d").chmod(0o755)
    r = gs(repo, "diff", "2")
    assert "A d" in r.out, r.out
    assert "note: snapshot 2 left out d (unreadable: Permission denied)" in r.err, r.err
    assert gs(repo, "diff", "1").err == ""  # (snapshot 1 left nothing out)
