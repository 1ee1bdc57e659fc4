"""rs47 (session 47, issue 10): a full restore's serial start, before any writer runs. Its
process imported dataclasses (for restorer.Report; with inspect and ast, ~10 ms by ``-X
importtime``), concurrent.futures (for the writer threads a restore with writer processes
never starts; with logging, ~8.5 ms) and store.remote.cache (commands.remote.prefetch
imported it to ask whether a local store is a RemoteStore, ~6.5 ms). None of them is
imported now unless used; Report compares and shows as the dataclass did."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from clihelpers import gs
from storehelpers import D
from storehelpers import F
from storehelpers import build
from storehelpers import take

from git_snapshot.store import Store
from git_snapshot.store.restorer import Report

PROBE = """
import atexit, json, os, sys
sys.argv = ["git-snapshot", *sys.argv[1:]]
def report():
    sys.stdout.write("\\nMODULES " + json.dumps(sorted(sys.modules)) + "\\n")
    sys.stdout.flush()
exit_now = os._exit
os._exit = lambda status: (report(), exit_now(status))
atexit.register(report)
from git_snapshot.hookmain import main
main()
"""

NOT_NEEDED = {
    "dataclasses": "restorer.Report is a plain class",
    "inspect": "brought by dataclasses",
    "concurrent.futures": "writer threads only (Restorer.pools): imported where they start",
    "logging": "brought by concurrent.futures",
    "git_snapshot.store.remote.cache": "prefetch: a local store is no RemoteStore",
}


def _restore_modules(repo: Path, *args: str) -> set[str]:
    ran = subprocess.run(
        [sys.executable, "-c", PROBE, "restore", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        env={**os.environ, "GIT_SNAPSHOT_WATCH": "0"},
        check=False,
    )
    assert ran.returncode == 0, ran.stderr
    # the first report (atexit's may follow os._exit's)
    line = next(ln for ln in ran.stdout.splitlines() if ln.startswith("MODULES "))
    return set(json.loads(line[len("MODULES ") :]))


def test_a_restore_imports_nothing_it_does_not_use(repo: Path, tmp_path: Path) -> None:
    for i in range(3):
        (repo / f"d{i}").mkdir()
        (repo / f"d{i}" / "f.txt").write_text(f"file {i}\n")
    gs(repo)
    out = tmp_path / "out"
    modules = _restore_modules(repo, "1", "--to", str(out))
    assert (out / "d2" / "f.txt").read_text() == "file 2\n"
    back = {m: why for m, why in NOT_NEEDED.items() if m in modules}
    assert not back, f"imported by a restore that does not use them: {back}"


def test_the_report_compares_and_shows_as_the_dataclass_did() -> None:
    a, b = Report(), Report()
    assert a == b
    b.created.append(b"x")
    assert a != b
    a.created.append(b"x")
    a.files = b.files = 1
    assert a == b
    assert repr(a).startswith("Report(created=[b'x'], updated=[], deleted=[], unchanged=0, ")
    assert repr(a).endswith("setid=[], unreadable=[])")
    assert (a == 1) is False


PLAN_PART = """
import marshal, sys
from git_snapshot.store import Store
from git_snapshot.store.restorer import Restorer
with Store(sys.argv[1]) as store:
    snap = store.get("s", "latest")
    r = Restorer(store)
    total, keys, trees, seen, shared = marshal.loads(r._plan_part([(snap.root, b"")], 1 << 20))
    print(total, len(keys), "urllib.parse" in sys.modules)
"""


def test_the_planning_child_opens_the_index_as_index_does(tmp_path: Path) -> None:
    """The plan's forked child (restore_plan._plan_part) opened its read-only connection
    through urllib.parse.quote, an import (~6 ms) nothing else of a restore makes, in the
    middle of the plan; now as Index opens its own (index.uri_path), in a store whose path
    holds the characters an SQLite URI gives a meaning to."""
    store_dir = tmp_path / "a %25 #b ?c" / "store"
    src = tmp_path / "src"
    build(src, D({b"a": F(b"1"), b"d": D({b"b": F(b"2"), b"e": D({b"c": F(b"3")})})}))
    env = {**os.environ, "GIT_SNAPSHOT_STORE": str(store_dir)}
    with Store(store_dir) as store:
        take(store, "s", src)
    ran = subprocess.run(
        [sys.executable, "-c", PLAN_PART, str(store_dir)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.split() == ["3", "3", "False"]
