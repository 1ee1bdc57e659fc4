"""Review RC47 (RR47's finding): a folder a restore makes inside a set-gid folder ends with
the snapshot's mode (restorer.restored_mode), whatever the umask. Linux gives a folder made in
a set-gid folder the set-gid bit too; the shortcut of 34997df (no fchmod when mkdir's mode
minus the umask is already the folder's) left it there: with umask 022 a 755 folder restored
as 2755, with umask 000 a 1777 one as 3777 (set-gid where anyone may write, which
restored_mode never gives), with umask 077 as recorded. Checked with writer processes and
alone, with the C modules and GIT_SNAPSHOT_PURE_PYTHON=1 (a child process each), for a full
restore into a new target, a folder made inside an existing set-gid folder of the target, and
a named path."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from storehelpers import D
from storehelpers import F
from storehelpers import build
from storehelpers import diff
from storehelpers import restore
from storehelpers import scan
from storehelpers import take

from git_snapshot.store import Store
from git_snapshot.store import restorer

T = 1_600_000_000_123_456_789

# (path, recorded mode): every folder of the snapshot, nested ones below set-gid ones too
FOLDERS = {
    "top": 0o755,
    "top/p": 0o755,
    "top/p/deep": 0o750,
    "top/p/deep/er": 0o700,
    "top/w": 0o1777,
    "top/o": 0o777,
    "top/g": 0o2755,  # set-gid kept (others cannot write into it)
    "top/g/in": 0o755,
    "top/gw": 0o2777,  # set-gid left off (others may write into it)
    "top/e": 0o711,  # empty
}

_CHILD = r"""
import json, os, stat, sys
sys.path.insert(0, sys.argv[1])
from storehelpers import D, F, build, take, restore
from git_snapshot.store import Store
from git_snapshot.store.objects import DIR, Entry
from git_snapshot.store.restorer import restored_mode
base, how, folders, T = sys.argv[2], sys.argv[3], json.loads(sys.argv[4]), int(sys.argv[5])

def node(path):
    inner = {n.rsplit("/", 1)[-1].encode(): node(n) for n in folders
             if "/" in n and n.rsplit("/", 1)[0] == path}
    if path != "top/e":
        inner[b"f\xe9"] = F(b"x\n" * 3, 0o644, T + 1)
    return D(inner, folders[path], T + 2)

src = os.path.join(base, "src")
build(src, D({b"top": node("top")}))
for path, mode in folders.items():  # (build's chmod may meet the umask)
    os.chmod(os.path.join(src, path), mode)
kw = {"threads": 2, "processes": True} if how == "processes" else {"threads": 0}
shared = os.path.join(base, "shared")
os.mkdir(shared)
os.chmod(shared, 0o2775)
os.mkdir(os.path.join(shared, "probe"))
if not os.lstat(os.path.join(shared, "probe")).st_mode & stat.S_ISGID:
    print(json.dumps(None))  # (no set-gid inheritance on this file system)
    sys.exit(0)
um = int(sys.argv[6], 8)
os.umask(um)
got = {}
with Store(os.path.join(base, "store")) as st:
    snap = take(st, "s", src)
    # a full restore into a new folder of a set-gid folder
    restore(st, snap, os.path.join(shared, "new"), **kw)
    # into a target whose top exists, set-gid: the folders below are made in it
    os.makedirs(os.path.join(shared, "in", "top"))
    os.chmod(os.path.join(shared, "in", "top"), 0o2755)
    restore(st, snap, os.path.join(shared, "in"), **kw)
    # a named path (through _parents and _put)
    restore(st, snap, os.path.join(shared, "named"), [b"top/p"], **kw)
    restore(st, snap, os.path.join(shared, "named"), [b"top/g"], **kw)
    for where in ("new", "in", "named"):
        for path in folders:
            full = os.path.join(shared, where, path)
            if os.path.lexists(full):
                got[f"{where}/{path}"] = stat.S_IMODE(os.lstat(full).st_mode)
want = {k: restored_mode(Entry(b"x", DIR, folders[k.split("/", 1)[1]], 0, 0, b""))
        for k in got}
print(json.dumps([got, want]))
"""


@pytest.mark.parametrize("pure", ["", "1"], ids=["c", "pure"])
@pytest.mark.parametrize("how", ["processes", "alone"])
@pytest.mark.parametrize("umask", [0o022, 0o000, 0o077], ids=["022", "000", "077"])
def test_a_folder_made_in_a_set_gid_folder_gets_its_recorded_mode_whatever_the_umask(
    tmp_path: Path, pure: str, how: str, umask: int
) -> None:
    args = [str(Path(__file__).parent), str(tmp_path), how, json.dumps(FOLDERS), str(T)]
    ran = subprocess.run(
        [sys.executable, "-c", _CHILD, *args, f"{umask:o}"],
        env=dict(os.environ, GIT_SNAPSHOT_PURE_PYTHON=pure, GIT_SNAPSHOT_ALLOW_EPHEMERAL="1"),
        capture_output=True,
        text=True,
    )
    assert ran.returncode == 0, ran.stderr[-3000:]
    out = json.loads(ran.stdout.splitlines()[-1])
    if out is None:
        pytest.skip("no set-gid inheritance here")
    got, want = out
    assert len(got) == 2 * len(FOLDERS) + 6  # (named: top, top/p and below, top/g and below)
    assert {k: oct(v) for k, v in got.items()} == {k: oct(v) for k, v in want.items()}
    assert not any(v & stat.S_ISGID and v & stat.S_IWOTH for v in got.values())


@pytest.mark.parametrize("named", [False, True])
def test_a_folder_made_in_a_folder_without_set_gid_keeps_mkdirs_shortcut(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, named: bool
) -> None:
    """Outside a set-gid folder, a folder made with its mode minus the umask gets its mtime
    alone (no fstat, no fchmod: _give_dir is not called for it), below the target and below a
    named path's parents alike."""
    src = tmp_path / "src"
    build(
        src,
        D(
            {
                b"top": D(
                    {b"a": D({b"b": D({b"f": F(b"1\n", 0o644, T)}, 0o755, T)}, 0o700, T)}, 0o755, T
                )
            }
        ),
    )
    snap = take(store, "s", src)
    out = tmp_path / "out"
    out.mkdir()
    assert not out.stat().st_mode & stat.S_ISGID
    gave: list[int] = []
    give = restorer._give_dir

    def counted(fd: int, *args: Any) -> bool:
        gave.append(fd)
        return give(fd, *args)

    monkeypatch.setattr(restorer, "_give_dir", counted)
    was = os.umask(0o022)
    try:
        restore(store, snap, out, [b"top/a"] if named else None, threads=0)
    finally:
        os.umask(was)
    assert diff(scan(src / "top/a"), scan(out / "top/a")) == []
    assert len(gave) == named  # (a named path's parent made here: _put_back's, once)
