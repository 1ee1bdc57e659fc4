"""RED32 B4: ``export`` wrote each mtime as a Python float: off by up to ~200 ns, and a tiny or
negative one as ``5e-09``, which GNU tar reads as 5 s. The pax mtime record is now the exact
decimal of the stored nanoseconds, as the snapshot and restore keep them."""

from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest
from clihelpers import gs

TIMES = {"tiny": 5, "neg": -1, "negbig": -1_500_000_000, "precise": 1_700_000_000_123_456_789}
TIMES |= {"whole": 1_700_000_000_000_000_000, "zero": 0, "far": 2**62}


@pytest.fixture
def archive(repo: Path, tmp_path: Path) -> Path:
    for name, ns in TIMES.items():
        (repo / name).write_text(name)
        os.utime(repo / name, ns=(0, ns))
    gs(repo)
    out = tmp_path / "x.tar"
    gs(repo, "export", "1", str(out))
    return out


def _exact(ns: int) -> str:
    sign = "-" if ns < 0 else ""
    whole, frac = divmod(abs(ns), 10**9)
    return f"{sign}{whole}.{frac:09d}".rstrip("0").rstrip(".")


def test_pax_mtime_records_are_exact_decimals(archive: Path) -> None:
    with tarfile.open(archive) as tar:
        got = {m.name: m.pax_headers.get("mtime") for m in tar if m.name in TIMES}
    want = {n: _exact(ns) for n, ns in TIMES.items()}
    # an integer second needs no record (the header field holds it) or one without a fraction
    for name in ("whole", "zero"):
        if got[name] is None:
            want[name] = None  # type: ignore[assignment]
    assert got == want
    assert all("e" not in (v or "") for v in got.values())


@pytest.mark.skipif(shutil.which("tar") is None, reason="no tar")
def test_gnu_tar_extracts_the_exact_mtimes(archive: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    subprocess.run(["tar", "-xpf", str(archive), "-C", str(out)], check=True)
    got = {n: os.lstat(out / n).st_mtime_ns for n in TIMES}
    assert got == TIMES
