"""bench/ab_first.py (the interleaved A/B of a first snapshot, per thread) runs end to end on a
tiny repository: a median row per code with the per-thread columns, the same root tree for
both codes, its scratch removed and the tree it copied left as it was."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_ab_first_runs_on_a_tiny_tree(tmp_path: Path) -> None:
    tree = tmp_path / "T"
    (tree / "src").mkdir(parents=True)
    for i in range(40):
        (tree / "src" / f"f{i}.txt").write_bytes(b"line %d\n" % i * (i * 50 + 1))
    (tree / "big.bin").write_bytes(os.urandom(300_000))
    subprocess.run(["git", "init", "-q", str(tree)], check=True)
    before = sorted(p.name for p in tree.rglob("*"))
    scratch = tmp_path / "abf"
    tar = bool(shutil.which("zstd") and shutil.which("tar"))
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "ab_first.py"),
            "--old",
            str(ROOT / "src"),
            "--tree",
            str(tree),
            "--dir",
            str(scratch),
            "--rounds",
            "1",
            *(["--tar"] if tar else []),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
        env={k: v for k, v in os.environ.items() if not k.startswith("GIT_SNAPSHOT")},
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert not scratch.exists()
    assert sorted(p.name for p in tree.rglob("*")) == before
    lines = proc.stdout.splitlines()
    header = next(line for line in lines if line.startswith("| code"))
    cols = [c.strip() for c in header.strip("|").split("|")]
    assert {"wall", "cpu", "walk cpu", "pool cpu", "walk blocked", "index cpu"} <= set(cols)
    assert ("ratio" in cols) == tar
    for code in ("old", "new"):
        row = next(line for line in lines if line.startswith(f"| {code} "))
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert len(cells) == len(cols)
        assert float(cells[cols.index("wall")]) > 0
        assert float(cells[cols.index("walk cpu")]) > 0
    assert "root tree" in proc.stdout
