"""Session 43 (fixQ; review RL42's open gap, fixL's note item 1): the watcher's burst check
(watch/bursts.record) took a lost file whose raw bytes are a blob git has for one git gives
back, as the hooks' loss check did before 12ee5c9. Under `eol=crlf` a file a tool rewrote
with LF line ends is git's blob byte for byte, and `git reset --hard` writes it back as CRLF:
the LF versions were in the snapshot only, and `reset --hard` runs no hook, so with the
watcher on the burst's entry is the only report the user gets. There was none.

The real daemon, real inotify, real git.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from test_red31_watch_bursts import _idle  # (the daemon has looked, nothing pending)
from test_watch_daemon import Watcher
from test_watch_daemon import add
from test_watch_daemon import config
from test_watch_daemon import make_repo
from test_watch_daemon import wait_for
from test_watch_daemon import watcher  # noqa: F401  (the fixture)

from git_snapshot.store import Store

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path("/proc/sys/fs/inotify").exists(), reason="inotify (Linux) only"),
]
N = 8
BURST = 5  # burstFiles: the N rewrites are one burst


def _lf(i: int) -> bytes:
    return b"one %d\ntwo\n" % i


def _held(repo: Path, snap: int, rel: str) -> bytes | None:
    with Store() as store:
        (s,) = [x for x in store.snapshots() if x.id == snap]
        for p, e in store.walk(s.root):
            if p == rel.encode():
                return b"".join(store.stream_blob(e.ref)) if e.size else b""
    return None


def _files(repo: Path, attributes: bytes) -> list[Path]:
    """N .txt files committed under *attributes*, as git writes them (checked out anew)."""
    (repo / ".gitattributes").write_bytes(attributes)
    files = [repo / f"t{i}.txt" for i in range(N)]
    for i, f in enumerate(files):
        f.write_bytes(_lf(i))
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "texts")
    for f in files:
        f.unlink()
    git(repo, "checkout", "-q", "--", ".")
    return files


def test_lf_bytes_a_reset_writes_back_as_crlf_are_a_burst_entry(
    tmp_path: Path,
    store_dir: Path,
    watcher: Watcher,  # noqa: F811
) -> None:
    config(burstFiles=BURST, burstSeconds=5)
    repo = make_repo(tmp_path)
    files = _files(repo, b"*.txt text eol=crlf\n")
    assert files[0].read_bytes() == b"one 0\r\ntwo\r\n"
    for i, f in enumerate(files):  # a Linux tool rewrites them with LF: git's blobs' bytes
        f.write_bytes(_lf(i))
    before = int(json.loads(gs(repo, "create", "-m", "before", "--json").out)["id"])
    assert _held(repo, before, "t0.txt") == _lf(0)
    add(store_dir, repo)
    watcher.start()
    watcher.watching(repo)
    _idle(watcher, repo)
    seen = len(watcher.bursts())
    git(repo, "reset", "-q", "--hard")  # no hook: CRLF written over each LF version
    assert files[0].read_bytes() == b"one 0\r\ntwo\r\n"
    wait_for(lambda: watcher.bursts()[seen:], timeout=60, what="the reset's burst recorded")
    entries = json.loads(gs(repo, "losses", "--json").out or "[]")
    assert entries, watcher.bursts()
    entry = entries[-1]
    assert sorted(x["path"] for x in entry["lost"]) == sorted(f.name for f in files), entry
    gs(repo, "restore", str(entry["snapshot"]), "t0.txt")
    assert files[0].read_bytes() == _lf(0)


def test_lf_bytes_git_wrote_before_autocrlf_are_no_burst_entry(
    tmp_path: Path,
    store_dir: Path,
    watcher: Watcher,  # noqa: F811
) -> None:
    """Guard (review RL42's b8663ca rule): git wrote the LF files, then the user set
    core.autocrlf=true; `checkout -f B` rewrites them (B changes each) and writes CRLF. The
    LF bytes were git's own, written before the rule: nothing lost."""
    config(burstFiles=BURST, burstSeconds=2)
    repo = make_repo(tmp_path)
    files = _files(repo, b"*.txt text\n")
    git(repo, "checkout", "-q", "-b", "B")
    for i, f in enumerate(files):
        f.write_bytes(_lf(i) + b"three\n")
    git(repo, "commit", "-q", "-am", "B")
    git(repo, "checkout", "-q", "-f", "master" if _has(repo, "master") else "main")
    assert files[0].read_bytes() == _lf(0)
    git(repo, "config", "core.autocrlf", "true")
    gs(repo, "create", "-m", "before")
    add(store_dir, repo)
    watcher.start()
    watcher.watching(repo)
    _idle(watcher, repo)
    seen = len(watcher.bursts())
    git(repo, "checkout", "-q", "-f", "B")
    assert files[0].read_bytes() == b"one 0\r\ntwo\r\nthree\r\n"
    parts = wait_for(
        lambda: watcher.bursts()[seen:], timeout=60, what="the checkout's burst recorded"
    )
    assert all(ln.endswith(": nothing lost") for ln in parts), watcher.log()
    assert json.loads(gs(repo, "losses", "--json").out or "[]") == [], watcher.log()


def _has(repo: Path, branch: str) -> bool:
    return bool(git(repo, "branch", "--list", branch).out.strip())
