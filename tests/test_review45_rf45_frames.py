"""Review RF45 of fs45 (a first snapshot's dictionary frames made through zstandard's cffi
module, store/packs.py _prefixed_frame): `git snapshot doctor` says which frames this install
makes, beside the C speedups' line. Without the cffi package (it reaches an install only
through pyproject's own `cffi>=1.17` or cryptography's) the frames are python-zstandard's:
the same snapshots, ~13 % more CPU on M's first one, and nothing said it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from clihelpers import gs

PURE = "GIT_SNAPSHOT_PURE_PYTHON"
PATH = os.environ["PATH"]
PREFIX = "zstd dictionary frames: "
# an install without the cffi package: zstandard's cffi module cannot load
NO_CFFI = (
    "import sys; sys.modules['_cffi_backend'] = None; "
    "from git_snapshot.hookmain import main; sys.argv[0] = 'git-snapshot'; exit(main())"
)


def frames_line(out: str) -> str:
    (line,) = [ln for ln in out.splitlines() if ln.startswith(PREFIX)]
    return line.removeprefix(PREFIX)


def test_doctor_says_which_dictionary_frames_this_install_makes(repo: Path) -> None:
    from git_snapshot.store import packs

    if packs._cffi() is None:
        pytest.skip("zstandard's cffi module does not load here")
    assert frames_line(gs(repo, "doctor", rc=1).out) == "the faster ones (zstandard's cffi module)"
    got = frames_line(gs(repo, "doctor", rc=1, **{PURE: "1"}).out)
    assert got == f"python-zstandard's ({PURE}=1) (the same snapshots, slower)"
    ran = subprocess.run(
        [sys.executable, "-c", NO_CFFI, "doctor"],
        cwd=repo,
        env={**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{PATH}"},
        capture_output=True,
        text=True,
        check=False,
    )
    got = frames_line(ran.stdout + ran.stderr)
    assert got.startswith("python-zstandard's (the same snapshots, slower): "), got
    assert "pip install 'cffi>=1.17'" in got
