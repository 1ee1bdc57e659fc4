"""bench/peers.py (which writes docs/BENCHMARKS.md) runs end to end on a tiny tree: a table row
per measured operation with a figure for git-snapshot, peers that are missing said so, and
every restore compared byte for byte with its tree (a harness whose restores are wrong times
nothing worth knowing)."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"
OPERATIONS = [
    "first snapshot (s)",
    "unchanged snapshot (s)",
    "1% edited + 10 new (s)",
    "full restore (s)",
    "store after 3 snapshots (MB)",
    "peak RSS (MB)",
]
NUMBER = re.compile(r"^[0-9][0-9,]*\.[0-9]+$")


def _peers(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.syspath_prepend(str(BENCH))
    spec = importlib.util.spec_from_file_location("peers", BENCH / "peers.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "peers", module)  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


@pytest.mark.slow
def test_quick_run_writes_a_full_table(tmp_path: Path) -> None:
    out = tmp_path / "BENCHMARKS.md"
    base = tmp_path / "base"
    base.mkdir()
    cmd = [sys.executable, str(BENCH / "peers.py"), "--quick", "--out", str(out)]
    proc = subprocess.run(
        [*cmd, "--base-dir", str(base)],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    text = out.read_text()
    assert list(base.iterdir()) == []  # the scratch directory is gone

    lines = text.splitlines()
    header = next(_cells(line) for line in lines if line.startswith("|  ") and "tar+zstd" in line)
    assert header[1:] == [
        "git-snapshot",
        "tar+zstd",
        "tar+zstd incremental",
        "restic",
        "borg",
        "shadow git index",
    ]
    exes = {"tar+zstd": "zstd", "tar+zstd incremental": "zstd", "restic": "restic", "borg": "borg"}
    for op in OPERATIONS:
        row = next(_cells(line) for line in lines if line.startswith(f"| {op} "))
        assert len(row) == len(header), row
        assert NUMBER.match(row[1]), f"git-snapshot has no figure for {op}: {row}"
        for tool, value in zip(header[2:], row[2:]):
            if shutil.which(exes.get(tool, "git")):
                assert NUMBER.match(value), f"{tool} has no figure for {op}: {row}"
            else:
                assert value.startswith("not installed"), row

    # every restore of every tool that ran was checked, and each was exact
    checks = [line for line in lines if line.startswith("- round 1, ")]
    assert all(re.search(r": [0-9,]+ entries byte-exact: ok$", c) for c in checks), checks
    checked = {c.removeprefix("- round 1, ").split(":")[0] for c in checks}
    ran = {t for t in header[1:] if t == "git-snapshot" or shutil.which(exes.get(t, "git"))}
    assert checked == ran
    for target in ("first snapshot / tar+zstd", "unchanged snapshot / Python walk", "peak RSS"):
        assert any(line.startswith(f"| {target}") for line in lines), target
    # the 1 % target applied to every tool that ran, each against its own unchanged snapshot
    start = lines.index(next(line for line in lines if line.startswith("The 1% target applied")))
    step = [_cells(line) for line in lines[start + 4 : start + 4 + len(ran)]]
    assert {row[0] for row in step} == ran
    assert all(re.fullmatch(r"[0-9.]+x", row[4]) for row in step), step
    # the floors of the 1 % step: reading the changed files, and storing them (hash + zstd)
    for floor in ("read the files edited or added", "read + sha256 + zstd-3 of those files"):
        row = next(_cells(line) for line in lines if line.startswith(f"| {floor}"))
        assert NUMBER.match(row[1]), row
    assert "bench/peers.py --quick" in text  # the command that regenerates it


def test_restore_check_catches_every_difference(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    peers = _peers(monkeypatch)
    src = tmp_path / "src"
    (src / "d").mkdir(parents=True)
    (src / ".git").mkdir()
    (src / ".git" / "HEAD").write_text("not compared\n")
    (src / "d" / "a.js").write_bytes(b"a" * 3000)
    (src / "run.sh").write_bytes(b"#!/bin/sh\n")
    os.chmod(src / "run.sh", 0o755)
    os.symlink("d/a.js", src / "link")

    def copy() -> Path:
        dst = tmp_path / "dst"
        shutil.rmtree(dst, ignore_errors=True)
        shutil.copytree(src, dst, symlinks=True, ignore=shutil.ignore_patterns(".git"))
        return dst

    assert peers.compare(str(src), str(copy()), True) == (4, [])
    dst = copy()
    (dst / "d" / "a.js").write_bytes(b"a" * 2999 + b"b")
    assert peers.compare(str(src), str(dst), True)[1] == ["bytes differ: d/a.js"]
    dst = copy()
    os.chmod(dst / "run.sh", 0o644)
    assert peers.compare(str(src), str(dst), False)[1][0].startswith("mode differs: run.sh")
    dst = copy()
    os.unlink(dst / "link")
    os.symlink("run.sh", dst / "link")
    assert peers.compare(str(src), str(dst), True)[1] == ["symlink target differs: link"]
    dst = copy()
    (dst / "extra").write_text("x")
    os.unlink(dst / "d" / "a.js")
    assert peers.compare(str(src), str(dst), True)[1] == ["missing: d/a.js", "extra: extra"]
