"""RED19: a file the snapshotting user may not read is named in the snapshot's skipped paths
(never silently left out), in a first walk (every file read as listed: in C a batch at a time
where store/readmany's module is built) and in a changed folder of the next; its neighbours in
the same batch are stored whole. Root reads a mode-000 file, so the snapshot runs in a child
without the capabilities that let root read it (setpriv), as a user's hook runs."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SETPRIV = shutil.which("setpriv")

CHILD = """
import json, sys
from git_snapshot.store import Store, archiver
from storehelpers import scan, snapshot_contents, take
src, store = sys.argv[1], sys.argv[2]
with Store(store) as s:
    out = []
    for _ in range(2):
        snap = take(s, "s", src)
        got = snapshot_contents(s, snap)
        out.append({
            "skipped": [[p, why] for p, why in snap.meta.get("skipped_paths", [])],
            "files": {k.decode(): v.data.decode() for k, v in got.items() if v.kind == "file"},
        })
        open(src + "/d/late.txt", "w").write("late")  # the folder changed: walked again
print(json.dumps(out))
"""


@pytest.mark.skipif(os.geteuid() != 0 or SETPRIV is None, reason="needs root and setpriv")
def test_an_unreadable_file_is_named_never_silently_left_out(tmp_path: Path) -> None:
    top = tmp_path / "top"
    d = top / "src" / "d"
    d.mkdir(parents=True)
    names = [f"f{k:02d}.txt" for k in range(8)]
    for name in names:
        (d / name).write_text(name)
    os.chmod(d / "f03.txt", 0)
    os.chmod(d / "f06.txt", 0o200)  # written, never read
    drop = [SETPRIV or "", "--bounding-set=-dac_override,-dac_read_search"]
    probe = [sys.executable, "-c", "import sys; open(sys.argv[1]).read()", str(d / "f03.txt")]
    if subprocess.run([*drop, *probe], capture_output=True).returncode == 0:
        pytest.skip("setpriv could not take root's reading of any file away here")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([*sys.path, str(Path(__file__).parent)])}
    env.pop("GIT_SNAPSHOT_STORE", None)
    ran = subprocess.run(
        [*drop, sys.executable, "-c", CHILD, str(top / "src"), str(top / "store")],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert ran.returncode == 0, ran.stderr
    for k, got in enumerate(json.loads(ran.stdout)):
        skipped = {p: why for p, why in got["skipped"]}
        assert sorted(skipped) == ["d/f03.txt", "d/f06.txt"], (k, got)
        assert all("unreadable" in why for why in skipped.values()), skipped
        want = {f"d/{n}": n for n in names if n not in ("f03.txt", "f06.txt")}
        if k:
            want["d/late.txt"] = "late"
        assert got["files"] == want, k
