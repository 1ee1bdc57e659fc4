"""RED32 C9: Ctrl-C in the first ~100 ms of any command printed a Python traceback: the
KeyboardInterrupt came while the executable's main imported the command line (or parsed it),
before cli.main's handler. Now it is the same one line and exit status 130 as later.

The interrupt is made to come at that moment: an ``argparse`` found first on the path raises
it on import (the command line imports argparse; nothing before it does)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

_FAKE = "raise KeyboardInterrupt\n"


@pytest.mark.parametrize(
    "entry",
    [
        "from git_snapshot.hookmain import main",  # the git-snapshot executable
        "import runpy; main = lambda: runpy.run_module('git_snapshot', run_name='__main__')",
    ],
)
def test_ctrl_c_while_the_command_line_loads_is_one_line(tmp_path: Path, entry: str) -> None:
    (tmp_path / "argparse.py").write_text(_FAKE)
    code = f"import sys; sys.argv = ['git-snapshot', 'list']; {entry}; sys.exit(main())"
    ran = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(tmp_path)},
        cwd=tmp_path,
        check=False,
    )
    assert ran.stderr == "git-snapshot: interrupted\n", ran.stderr
    assert ran.returncode == 130
