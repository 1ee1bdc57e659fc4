"""RED34 fixD5's hook side: a git command after a restore in place that stopped part way.

The pre-restore snapshot's record (store/safety.py's restore record) says which paths hold
the restore's source since; a post-hook compares those with the source and the rest with the
pre-restore snapshot (restored.parts, RED32 V2). A restore stopped by a full disk or Ctrl-C
(SIGTERM) left the paths it never reached holding the user's edits, but its record still
named them all: a `git checkout -f` that then destroyed one of those edits was compared with
the source, which held another version, and the report named the source (or nothing), and
undo put back the wrong bytes. Now the stopped run records what it wrote.

Real git, the plain hooks installed as a user installs them; the restore runs in this
process (main), stopped at a chosen write as in test_red34_restore_stopped.py.
"""

from __future__ import annotations

import errno
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from clihelpers import Ran
from clihelpers import git
from clihelpers import gs
from hookhelpers import install
from hookhelpers import put_venv_on_path
from hookhelpers import snaps
from storehelpers import entry_of

from git_snapshot.cli import main

FILES = 40
STOP_AT = 10  # the rename that fails: files 0-8 are restored, the rest are not


def _full() -> None:
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def _interrupt() -> None:
    raise KeyboardInterrupt


def _stop_at(monkeypatch: pytest.MonkeyPatch, then: Callable[[], None]) -> Callable[[], None]:
    """*then* runs instead of the STOP_AT-th rename of a restore's temp name into place (and
    every later one), until the function returned is called."""
    real = os.rename
    seen = [0]
    on = [True]

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if on[0] and b".gsnap-tmp-" in os.fsencode(args[0]):
            seen[0] += 1
            if seen[0] >= STOP_AT:
                then()
        return real(*args, **kwargs)

    monkeypatch.setattr(os, "rename", wrapped)
    return lambda: on.__setitem__(0, False)


def _name(i: int) -> str:
    return f"f{i:02}.txt"


def prepared(repo: Path, monkeypatch: pytest.MonkeyPatch) -> int:
    """FILES tracked files committed, the hooks installed, a snapshot S of other versions
    (its id returned), then the user's edits of each."""
    put_venv_on_path(monkeypatch)
    for i in range(FILES):
        (repo / _name(i)).write_text(f"committed {i}\n")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "files")
    install(repo)
    for i in range(FILES):
        (repo / _name(i)).write_text(f"in S {i}\n")
    s = int(json.loads(gs(repo, "create", "--json").out)["id"])
    for i in range(FILES):
        (repo / _name(i)).write_text(f"edited {i}\n")
    return s


@pytest.fixture
def stopped(
    request: pytest.FixtureRequest,
    repo: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> tuple[Path, int, int, list[int], list[int]]:
    """Tracked files committed, a snapshot S of other versions, then the user's edits; a
    restore of S in place stopped part way (request.param: how). Returns the worktree, S,
    the pre-restore snapshot P, the files restored and the files left with the edits."""
    s = prepared(repo, monkeypatch)
    off = _stop_at(monkeypatch, request.param)
    rc = main(["-C", str(repo), "restore", str(s)])
    off()
    err = capsys.readouterr().err
    assert rc != 0, err
    p = snaps(repo)[-1]["id"]
    assert f"what was there before is in snapshot {p}" in err, err
    done = [i for i in range(FILES) if (repo / _name(i)).read_text() == f"in S {i}\n"]
    left = [i for i in range(FILES) if (repo / _name(i)).read_text() == f"edited {i}\n"]
    assert done and left and len(done) + len(left) == FILES, (done, left)
    return repo, s, p, done, left


def _lines(ran: Ran) -> list[int]:
    """Each report line's snapshot."""
    return sorted(rep.snap for rep in ran.reports)


def _names(r: Path) -> dict[int, set[str]]:
    """losses --json's latest report: each snapshot and the paths it holds of what was lost."""
    entries = [e for e in json.loads(gs(r, "losses", "--json").out) if e.get("lost")]
    latest = max(e["when"] for e in entries)
    out: dict[int, set[str]] = {}
    for e in entries:
        if e["when"] == latest:
            out.setdefault(e["snapshot"], set()).update(x["path"] for x in e["lost"])
    return out


BOTH = pytest.mark.parametrize(
    "stopped", [_full, _interrupt], ids=["full-disk", "ctrl-c"], indirect=True
)


@BOTH
def test_a_checkout_after_a_stopped_restore_names_each_version_where_it_is(
    stopped: tuple[Path, int, int, list[int], list[int]],
) -> None:
    r, s, p, done, left = stopped
    ran = git(r, "checkout", "-f", "-q", "HEAD")
    assert all((r / _name(i)).read_text() == f"committed {i}\n" for i in range(FILES))
    # the edits the restore never reached are in the pre-restore snapshot, and named there;
    # what it wrote is its source's
    want = {p: {_name(i) for i in left}, s: {_name(i) for i in done}}
    assert _lines(ran) == sorted([p, s]), ran.err
    assert _names(r) == want
    for i in left[:2]:
        assert gs(r, "cat", str(p), _name(i)).out == f"edited {i}\n"


@BOTH
def test_undo_after_a_stopped_restore_puts_back_what_was_there(
    stopped: tuple[Path, int, int, list[int], list[int]],
) -> None:
    r, _, _, done, left = stopped
    git(r, "checkout", "-f", "-q", "HEAD")
    gs(r, "undo")
    for i in left:
        assert (r / _name(i)).read_text() == f"edited {i}\n", i
    for i in done:
        assert (r / _name(i)).read_text() == f"in S {i}\n", i


# files: a whole-tree restore of 1500 hands them to writer processes (or threads), of 300
# writes them in its own thread, a job at a time
@pytest.mark.parametrize("many", [1500, 300], ids=["writers", "no-writers"])
def test_files_the_writers_made_before_the_stop_are_named_with_the_source(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], many: int
) -> None:
    """Ctrl-C while writers hold jobs: what they made is the restore's, what they did not
    make is nobody's (the checkout that writes it destroys nothing)."""
    from git_snapshot.store import restorer
    from git_snapshot.store.restorer import Restorer

    put_venv_on_path(monkeypatch)
    names = [f"d{i % 7}/g{i:04}.txt" for i in range(many)]
    for i, name in enumerate(names):
        (repo / name).parent.mkdir(exist_ok=True)
        (repo / name).write_text(f"committed {i}\n")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "many")
    install(repo)
    for i, name in enumerate(names):
        (repo / name).write_text(f"in S {i}\n")
    s = int(json.loads(gs(repo, "create", "--json").out)["id"])
    for name in names:
        (repo / name).unlink()  # the user's rm: the restore makes them all anew
    real = Restorer._took
    calls = [0]

    def took(self: Restorer, *args: Any) -> None:
        calls[0] += 1
        if calls[0] == 2:  # the first job's answer entered, others on their way
            raise KeyboardInterrupt
        real(self, *args)

    monkeypatch.setattr(Restorer, "_took", took)
    # jobs of 256 files (1024 since 3207ef0: two jobs, all 1500 written before the second
    # answer was taken, and the stop left nothing unmade, RL46): six jobs, the stop comes
    # with some not handed out yet
    monkeypatch.setattr(restorer, "JOB_FILES", 256)
    rc = main(["-C", str(repo), "restore", str(s)])
    monkeypatch.setattr(Restorer, "_took", real)
    assert rc != 0, capsys.readouterr().err
    made = {n for n in names if (repo / n).exists()}
    assert made and (len(made) < many or many < 512), len(made)  # (one thread: all made)
    assert snaps(repo)[-1]["trigger"] == "pre-restore"  # which lacks them all: not named
    ran = git(repo, "checkout", "-f", "-q", "HEAD")
    assert _lines(ran) == [s], ran.err
    got = _names(repo)
    assert set(got) == {s}, got
    assert got[s] == made, (sorted(got[s] - made)[:5], sorted(made - got[s])[:5], len(made))


def test_a_damaged_path_the_restore_left_is_named_with_the_pre_restore_snapshot(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A restore that wrote all but a damaged file (exit 1) left the user's edit there: a
    checkout destroying it names the pre-restore snapshot, not the source's damaged copy."""
    from git_snapshot.store import Store

    put_venv_on_path(monkeypatch)
    for i in range(FILES):
        (repo / _name(i)).write_text(f"committed {i}\n")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "files")
    install(repo)
    for i in range(1, FILES):
        (repo / _name(i)).write_text(f"in S {i}\n")
    gs(repo, "create")
    (repo / _name(0)).write_text("in S 0\n")  # its blob alone in the pack of S
    s = int(json.loads(gs(repo, "create", "--json").out)["id"])
    store_dir = Path(os.environ["GIT_SNAPSHOT_STORE"])
    with Store(store_dir) as store:
        (snap,) = [x for x in store.snapshots() if x.id == s]
        loc = store.index.locate(entry_of(store, snap, _name(0).encode()).ref)
    assert loc is not None
    pack = store_dir / "packs" / loc.pack
    data = bytearray(pack.read_bytes())
    for at in range(loc.offset, loc.offset + loc.length):  # its frame, every byte
        data[at] ^= 0x55
    pack.write_bytes(bytes(data))
    for i in range(FILES):
        (repo / _name(i)).write_text(f"edited {i}\n")
    gs(repo, "restore", str(s), rc=1)
    assert (repo / _name(0)).read_text() == "edited 0\n"
    p = snaps(repo)[-1]["id"]
    ran = git(repo, "checkout", "-f", "-q", "HEAD")
    assert _lines(ran) == sorted([p, s]), ran.err
    assert _names(repo) == {p: {_name(0)}, s: {_name(i) for i in range(1, FILES)}}
    gs(repo, "undo")
    assert (repo / _name(0)).read_text() == "edited 0\n"
    assert (repo / _name(1)).read_text() == "in S 1\n"
